import type { CanonicalException } from '../canonical/exception.schema.js';

/**
 * Action params in a policy are data, but they must name the order, customer or SKU of the case
 * (`"order": "{{references.order}}"`). `{{path}}` is a dotted path into the exception that opened the
 * case, filled in when the action is planned: a string that is only a reference takes the value as is
 * (a number stays a number; a missing value drops the param, so the action's params schema names it);
 * a reference inside longer text is replaced by the value as text (missing: empty).
 */
const REF = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z0-9_.]+)\s*\}\}$/;

export function valueAt(source: unknown, path: string): unknown {
  let v: unknown = source;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function fill(v: unknown, e: CanonicalException): unknown {
  if (typeof v === 'string') {
    const whole = WHOLE.exec(v);
    if (whole) return valueAt(e, whole[1]) ?? undefined;
    return v.replace(REF, (_, p: string) => {
      const x = valueAt(e, p);
      return x === undefined || x === null ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
    });
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, e));
  if (v && typeof v === 'object') return fillParams(v as Record<string, unknown>, e);
  return v;
}

export function fillParams(params: Record<string, unknown>, e: CanonicalException | undefined): Record<string, unknown> {
  if (!e) return params;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const x = fill(v, e);
    if (x !== undefined) out[k] = x;
  }
  return out;
}
