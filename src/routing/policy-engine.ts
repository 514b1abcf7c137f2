import type { CanonicalException } from '../canonical/exception.schema.js';
import type { ExceptionCode } from '../canonical/taxonomy.js';
import { severityRank, type Severity } from '../canonical/taxonomy.js';
import { CompiledPolicy, declarative, holds, type CompiledRule } from './compiled-policy.js';
import { applyOverlay, OverlayRefused } from './policy-overlay.js';
import type { ActionSpec, TaskSpec } from './rule-outputs.js';
import type { PolicyOverlay, RoutingPolicy } from './routing-policy.js';

export interface RoutingDecision {
  team: string;
  /** From the matching rule's `extraTeams`: teams working the case next to the owner. */
  extraTeams: string[];
  severity: Severity;
  /** False when the exception is below the policy's case threshold: recorded, reported, no case. */
  opensCase: boolean;
  /** The enterprise policy; `overlay` names the site / business-unit overlay that applied, if any. */
  policy: { id: string; version: string; overlay?: string };
  ruleId: string | null;
  reason: string;
  /** Each condition of the matching rule that held, and rules passed over although their conditions held (team scope, failed expression). */
  explanation: { conditions: string[]; skipped: { ruleId: string; why: string }[] };
  /** From the matching rule (src/routing/rule-outputs.ts): SLA definition id, parallel tasks, actions. */
  sla: string | null;
  tasks: TaskSpec[];
  actions: ActionSpec[];
  /** From the matching rule: this exception resolves the open case with its correlation key when that case's code is listed. */
  clears: ExceptionCode[] | null;
}

export const DEFAULT_POLICY = 'default';

/** The overlay id a decision was made under (null: the enterprise policy); SLA clocks keep it as their scope. */
export const scopeOf = (d: Pick<RoutingDecision, 'policy'>): string | null => d.policy.overlay?.split('@')[0] ?? null;

/** An enterprise policy with its overlays, compiled; decides for one exception. Used by the Router and by simulation. */
export class PolicyEngine {
  constructor(
    readonly enterprise: CompiledPolicy,
    readonly overlays: { overlay: PolicyOverlay; compiled: CompiledPolicy }[],
  ) {}

  /** Builds an engine; a refused overlay or a bad expression is an Error with one line naming it. */
  static build(enterprise: RoutingPolicy, overlays: PolicyOverlay[]): PolicyEngine {
    const mine = overlays.filter((o) => o.extends === enterprise.id);
    const claimed = new Map<string, string>();
    for (const o of mine) {
      for (const s of [...(o.scope.sites ?? []).map((x) => `site ${x}`), ...(o.scope.businessUnits ?? []).map((x) => `business unit ${x}`)]) {
        if (claimed.has(s)) throw new OverlayRefused(`overlay ${o.id}@${o.version}: ${s} is already in the scope of overlay ${claimed.get(s)}`);
        claimed.set(s, o.id);
      }
    }
    return new PolicyEngine(
      new CompiledPolicy(enterprise),
      mine.map((overlay) => ({
        overlay,
        compiled: new CompiledPolicy(applyOverlay(enterprise, overlay), { id: overlay.id, version: overlay.version, addedRules: new Set(overlay.addRules.map((r) => r.id)) }),
      })),
    );
  }

  /** The policy in force for an exception: a site overlay, else a business-unit overlay, else the enterprise policy. */
  policyFor(e: CanonicalException): CompiledPolicy {
    if (e.site) for (const o of this.overlays) if (o.overlay.scope.sites?.includes(e.site)) return o.compiled;
    if (e.businessUnit) for (const o of this.overlays) if (o.overlay.scope.businessUnits?.includes(e.businessUnit)) return o.compiled;
    return this.enterprise;
  }

  /**
   * The first matching rule decides. An overlay's added rules are tried before the enterprise rules
   * only where the enterprise lets the overlay re-route: when the enterprise rule that would decide has
   * an overridable team (or no rule does and the fallback would). Otherwise the enterprise rule decides
   * and a matching overlay rule is listed under `skipped`.
   */
  async decide(e: CanonicalException): Promise<RoutingDecision> {
    const compiled = this.policyFor(e);
    const p = compiled.policy;
    const policy = { id: p.id, version: p.version, ...(compiled.overlay ? { overlay: `${compiled.overlay.id}@${compiled.overlay.version}` } : {}) };
    const via = compiled.overlay ? ` (overlay ${policy.overlay})` : '';
    const skipped: { ruleId: string; why: string }[] = [];
    let hit: Awaited<ReturnType<typeof firstMatch>>;
    if (compiled.added.length && compiled.allPreemptable) {
      // Nothing locked: the overlay's rules first, the enterprise rules only when none of them matches.
      hit = (await firstMatch(compiled, compiled.added, e, skipped)) ?? (await firstMatch(compiled, compiled.enterpriseRules, e, skipped));
    } else {
      hit = await firstMatch(compiled, compiled.enterpriseRules, e, skipped);
    }
    if (compiled.added.length && !compiled.allPreemptable) {
      const locked = hit && !compiled.preemptable(hit.c);
      const own = await firstMatch(compiled, compiled.added, e, locked ? [] : skipped);
      if (own && locked) skipped.push({ ruleId: own.c.rule.id, why: `overlay rule may not pre-empt enterprise rule ${hit!.c.rule.id} (its team is not overridable)` });
      else if (own) hit = own;
    }
    if (hit) {
      const { c, because } = hit;
      const then = c.rule.then;
      const severity = then.severity ?? e.severity;
      const extra = then.extraTeams ?? [];
      return {
        team: then.team,
        extraTeams: extra,
        severity,
        opensCase: severityRank(severity) >= severityRank(p.caseMinSeverity),
        policy,
        ruleId: c.rule.id,
        reason: `rule ${c.rule.id}${via} matched (${because.join(', ')})${then.severity ? `; severity set to ${then.severity}` : ''}${extra.length ? `; extra teams ${extra.join(', ')}` : ''}`,
        explanation: { conditions: because, skipped },
        sla: then.sla ?? null,
        tasks: then.tasks ?? [],
        actions: then.actions ?? [],
        clears: then.clears?.code ?? null,
      };
    }
    return {
      team: p.fallback.team,
      extraTeams: [],
      severity: e.severity,
      opensCase: severityRank(e.severity) >= severityRank(p.caseMinSeverity),
      policy,
      ruleId: null,
      reason: `no rule matched${via}; fallback team`,
      explanation: { conditions: [], skipped },
      sla: null,
      tasks: [],
      actions: [],
      clears: null,
    };
  }
}

/** The first of `rules` that matches, with the conditions that held; rules passed over go to `skipped`. */
async function firstMatch(compiled: CompiledPolicy, rules: CompiledRule[], e: CanonicalException, skipped: { ruleId: string; why: string }[]) {
  for (const c of rules) {
    if (!holds(c.when, e)) continue;
    const pending = compiled.settle(c, e, declarative(c.rule, e)!);
    const v = pending instanceof Promise ? await pending : pending;
    if (v.skipped) skipped.push({ ruleId: c.rule.id, why: v.skipped });
    if (v.matched) return { c, because: v.because };
  }
  return null;
}
