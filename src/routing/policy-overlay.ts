import { RoutingPolicySchema, type PolicyOverlay, type RoutingPolicy } from './routing-policy.js';

/** An overlay that changes what its enterprise policy does not mark overridable (ConfigError at load, 422 at publish). */
export class OverlayRefused extends Error {}

const NEVER = new Set(['id', 'version', 'overridable', 'description']);

/**
 * Whether an `overridable` pattern covers a path. Segments are compared one by one, `*` matches any
 * one segment, and a pattern covers everything below it: `noise` and `noise.*` both allow
 * `noise.stormPerMinute`; `rules.*.then.team` allows the team of every rule and nothing else.
 */
export function covers(pattern: string, pathName: string): boolean {
  const p = pattern.split('.');
  const q = pathName.split('.');
  if (p.length > q.length) return false;
  return p.every((seg, i) => seg === '*' || seg === q[i]);
}

export function isOverridable(enterprise: RoutingPolicy, pathName: string): boolean {
  return enterprise.overridable.some((p) => covers(p, pathName));
}

/**
 * The effective policy for an overlay's scope: the enterprise policy with the overlay's changes.
 * Throws OverlayRefused (one line, naming the path) when a change is not allowed or does not fit.
 */
export function applyOverlay(enterprise: RoutingPolicy, overlay: PolicyOverlay): RoutingPolicy {
  const where = `overlay ${overlay.id}@${overlay.version}`;
  if (overlay.extends !== enterprise.id) throw new OverlayRefused(`${where} extends "${overlay.extends}", not ${enterprise.id}`);
  const doc = structuredClone(enterprise) as unknown as Record<string, unknown>;
  for (const [pathName, value] of Object.entries(overlay.set)) {
    if (NEVER.has(pathName.split('.')[0]) || !isOverridable(enterprise, pathName)) {
      throw new OverlayRefused(`${where} may not change ${pathName}: ${enterprise.id}@${enterprise.version} does not list it in "overridable"`);
    }
    setPath(doc, pathName, value, where);
  }
  if (overlay.addRules.length) {
    if (!isOverridable(enterprise, 'rules.add')) throw new OverlayRefused(`${where} may not add rules: "rules.add" is not overridable in ${enterprise.id}`);
    doc.rules = [...structuredClone(overlay.addRules), ...(doc.rules as unknown[])];
  }
  if (overlay.addTeams.length) {
    if (!isOverridable(enterprise, 'teams.add')) throw new OverlayRefused(`${where} may not add teams: "teams.add" is not overridable in ${enterprise.id}`);
    doc.teams = [...(doc.teams as unknown[]), ...structuredClone(overlay.addTeams)];
  }
  const r = RoutingPolicySchema.safeParse(doc);
  if (!r.success) throw new OverlayRefused(`${where} makes an invalid policy: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
  return r.data;
}

/** Sets a dotted path; inside an array the segment is an element's `id` (rules, teams, slas, calendars). */
function setPath(root: Record<string, unknown>, pathName: string, value: unknown, where: string) {
  const segs = pathName.split('.');
  let cur: unknown = root;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (Array.isArray(cur)) {
      const at = cur.findIndex((x) => x && typeof x === 'object' && (x as { id?: unknown }).id === seg);
      if (last) {
        const v = value && typeof value === 'object' ? { ...(value as object), id: seg } : value;
        if (at >= 0) cur[at] = v;
        else cur.push(v);
        return;
      }
      if (at < 0) throw new OverlayRefused(`${where}: ${segs.slice(0, i + 1).join('.')} does not exist`);
      cur = cur[at];
    } else if (cur && typeof cur === 'object') {
      const o = cur as Record<string, unknown>;
      if (last) {
        o[seg] = value;
        return;
      }
      if (!(seg in o)) o[seg] = {};
      cur = o[seg];
    } else {
      throw new OverlayRefused(`${where}: ${segs.slice(0, i).join('.')} is not an object`);
    }
  }
}
