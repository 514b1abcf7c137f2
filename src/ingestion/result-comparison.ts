import { createHash } from 'node:crypto';

/** One exception of a message's result, as the regression diff and reprocess compare them. */
export interface ResultItem {
  /** Stored exceptions only. */
  exceptionId?: string;
  code: string;
  severity: string;
  team: string;
  correlationKey: string;
  title: string;
  mapping: { id: string; version: string };
  /** Everything that says what the exception is (routing outcome included), without which mapping version produced it. */
  content: Record<string, unknown>;
}

export interface ResultChange {
  before: ResultItem;
  after: ResultItem;
  /** Which of code, severity, team changed; `content` when only other fields (references, quantities ...) did. */
  fields: ('code' | 'severity' | 'team' | 'content')[];
}

export interface ResultComparison {
  unchanged: { before: ResultItem; after: ResultItem }[];
  changed: ResultChange[];
  appear: ResultItem[];
  disappear: ResultItem[];
}

/** What identifies an exception's meaning: its payload and routing, minus the mapping version and ids. */
export function resultContent(payload: Record<string, unknown>, severity: string, team: string): Record<string, unknown> {
  const { mapping: _m, id: _id, ...rest } = payload;
  return { ...rest, severity, team };
}

const fingerprint = (i: ResultItem) => createHash('sha256').update(stable(i.content)).digest('hex');

/**
 * Compares a message's stored result with a new one. Identical exceptions (same content and
 * routing) are unchanged; the rest are paired by code + correlation key, then in order, and
 * reported as changed; what is left appears or disappears.
 */
export function compareResults(before: ResultItem[], after: ResultItem[]): ResultComparison {
  const out: ResultComparison = { unchanged: [], changed: [], appear: [], disappear: [] };
  const left = [...before];
  const right: ResultItem[] = [];
  const fps = new Map<string, number[]>();
  left.forEach((b, i) => fps.set(fingerprint(b), [...(fps.get(fingerprint(b)) ?? []), i]));
  const used = new Set<number>();
  for (const a of after) {
    const idx = fps.get(fingerprint(a))?.find((i) => !used.has(i));
    if (idx === undefined) right.push(a);
    else {
      used.add(idx);
      out.unchanged.push({ before: left[idx], after: a });
    }
  }
  let rest = left.filter((_, i) => !used.has(i));
  const pair = (match: (b: ResultItem, a: ResultItem) => boolean) => {
    for (const a of [...right]) {
      const b = rest.find((x) => match(x, a));
      if (!b) continue;
      rest = rest.filter((x) => x !== b);
      right.splice(right.indexOf(a), 1);
      const fields = (['code', 'severity', 'team'] as const).filter((f) => b[f] !== a[f]);
      out.changed.push({ before: b, after: a, fields: fields.length ? fields : ['content'] });
    }
  };
  pair((b, a) => b.code === a.code && b.correlationKey === a.correlationKey);
  pair(() => true);
  out.appear = right;
  out.disappear = rest;
  return out;
}

export const isUnchanged = (c: ResultComparison) => !c.changed.length && !c.appear.length && !c.disappear.length;

/** JSON with sorted keys, so equal content always has the same fingerprint. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

