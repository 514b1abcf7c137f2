export type ErpRecord = Record<string, unknown>;
export interface Watermarkish {
  modified: string;
  key: string;
}

const SETS: Record<string, { key: string; modified: string }> = {
  SalesOrders: { key: 'OrderId', modified: 'ModifiedAt' },
  Customers: { key: 'CustomerId', modified: 'ModifiedAt' },
  Inventory: { key: 'ItemSite', modified: 'ModifiedAt' },
};

type Cond = { field: string; op: 'eq' | 'gt' | 'ge' | 'lt' | 'ne'; value: string | number } | { and: Cond[] } | { or: Cond[] };

/** The simulator's mutable records; tests change them between pages. */
export class ErpData {
  readonly sets = new Map<string, ErpRecord[]>(Object.keys(SETS).map((s) => [s, []]));
  readonly idempotent = new Map<string, { status: number; body: unknown }>();
  private lastStamp = 0;

  /** A strictly increasing modification time, like an ERP's change timestamp. */
  stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }

  upsert(set: string, rec: ErpRecord): ErpRecord {
    const meta = SETS[set];
    const rows = this.sets.get(set)!;
    const i = rows.findIndex((r) => r[meta.key] === rec[meta.key]);
    const merged = { ...(i >= 0 ? rows[i] : {}), ...rec, [meta.modified]: (rec[meta.modified] as string | undefined) ?? this.stamp() };
    if (i >= 0) rows[i] = merged;
    else rows.push(merged);
    return merged;
  }

  get(set: string, key: string): ErpRecord | undefined {
    const meta = SETS[set];
    return meta ? this.sets.get(set)!.find((r) => r[meta.key] === key) : undefined;
  }

  query(set: string, q: { filter?: string; orderby?: string; after?: Watermarkish; top: number; equals?: Record<string, string>; byModified?: boolean; v2?: boolean }):
    { records: ErpRecord[]; more: boolean; last?: Watermarkish } | { error: string } {
    const meta = SETS[set];
    if (!meta) return { error: `unknown entity set ${set}` };
    let cond: Cond | undefined;
    try {
      cond = q.filter ? parseFilter(q.filter) : undefined;
    } catch (e) {
      return { error: `invalid $filter: ${(e as Error).message}` };
    }
    const order = q.byModified ? [meta.modified, meta.key] : (q.orderby ?? '').split(',').map((s) => s.trim().split(/\s+/)[0]).filter(Boolean);
    const filtered = this.sets.get(set)!.filter((r) => (!cond || test(cond, r)) && Object.entries(q.equals ?? {}).every(([k, v]) => String(r[k]) === v));
    // Sort keys computed once per row (timestamps as numbers), not once per comparison.
    const keyed = filtered.map((r) => ({ r, k: order.map((f) => timeOf(r[f]) ?? r[f]) }));
    keyed.sort((a, b) => a.k.reduce((acc: number, v, i) => acc || cmp(v, b.k[i]), 0));
    let rows = keyed.map((x) => x.r);
    if (q.after) {
      const w = q.after;
      rows = rows.filter((r) => cmp(r[meta.modified], w.modified) > 0 || (cmp(r[meta.modified], w.modified) === 0 && cmp(r[meta.key], w.key) > 0));
    }
    const page = rows.slice(0, q.top).map((r) => ({ ...r }));
    const lastRow = page[page.length - 1];
    return { records: page, more: rows.length > q.top, last: lastRow ? { modified: String(lastRow[meta.modified]), key: String(lastRow[meta.key]) } : undefined };
  }

  /** Order actions: invoice hold and fulfilment hold (POST places, DELETE releases) and notes. */
  act(set: string, key: string, action: string, method: string, body: Record<string, unknown>): { status: number; body: unknown } {
    const rec = this.get(set, key)!;
    if (set !== 'SalesOrders') return { status: 405, body: { error: { code: '405', message: `no actions on ${set}` } } };
    if (action === 'InvoiceHold' && method === 'POST') {
      if (rec.InvoiceHold) return { status: 409, body: { error: { code: 'HOLD_EXISTS', message: `order ${key} already has an invoice hold` } } };
      const out = this.upsert(set, { OrderId: key, InvoiceHold: true, InvoiceHoldReason: String(body.Reason ?? ''), InvoiceHoldBy: String(body.RequestedBy ?? 'unknown'), HoldsPlaced: Number(rec.HoldsPlaced ?? 0) + 1 });
      return { status: 201, body: { OrderId: key, InvoiceHold: true, HoldsPlaced: out.HoldsPlaced, ModifiedAt: out.ModifiedAt } };
    }
    if (action === 'InvoiceHold' && method === 'DELETE') {
      if (!rec.InvoiceHold) return { status: 409, body: { error: { code: 'NO_HOLD', message: `order ${key} has no invoice hold` } } };
      const out = this.upsert(set, { OrderId: key, InvoiceHold: false, InvoiceHoldReason: null, InvoiceHoldBy: null });
      return { status: 200, body: { OrderId: key, InvoiceHold: false, ModifiedAt: out.ModifiedAt } };
    }
    // The order's fulfilment (release, picking, shipping) held; counters show how often it really changed.
    if (action === 'FulfilmentHold' && method === 'POST') {
      if (rec.FulfilmentHold) return { status: 409, body: { error: { code: 'HOLD_EXISTS', message: `order ${key} already has a fulfilment hold` } } };
      const out = this.upsert(set, { OrderId: key, FulfilmentHold: true, FulfilmentHoldReason: String(body.Reason ?? ''), FulfilmentHoldBy: String(body.RequestedBy ?? 'unknown'), FulfilmentPauses: Number(rec.FulfilmentPauses ?? 0) + 1 });
      return { status: 201, body: { OrderId: key, FulfilmentHold: true, FulfilmentPauses: out.FulfilmentPauses, ModifiedAt: out.ModifiedAt } };
    }
    if (action === 'FulfilmentHold' && method === 'DELETE') {
      if (!rec.FulfilmentHold) return { status: 409, body: { error: { code: 'NO_HOLD', message: `order ${key} has no fulfilment hold` } } };
      const out = this.upsert(set, { OrderId: key, FulfilmentHold: false, FulfilmentHoldReason: null, FulfilmentHoldBy: null, FulfilmentResumes: Number(rec.FulfilmentResumes ?? 0) + 1 });
      return { status: 200, body: { OrderId: key, FulfilmentHold: false, FulfilmentResumes: out.FulfilmentResumes, ModifiedAt: out.ModifiedAt } };
    }
    if (action === 'Notes' && method === 'POST') {
      const notes = [...((rec.Notes as string[]) ?? []), String(body.Text ?? '')];
      this.upsert(set, { OrderId: key, Notes: notes });
      return { status: 201, body: { OrderId: key, NoteNumber: notes.length } };
    }
    return { status: 405, body: { error: { code: '405', message: `${method} ${action} not supported` } } };
  }
}

function cmp(a: unknown, b: unknown): number {
  const ta = timeOf(a);
  const tb = timeOf(b);
  if (ta !== undefined && tb !== undefined) return ta - tb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a ?? '');
  const sb = String(b ?? '');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = v.match(/^\/Date\((\d+)\)\/$/);
  if (m) return Number(m[1]);
  return /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : undefined;
}

function test(c: Cond, r: ErpRecord): boolean {
  if ('and' in c) return c.and.every((x) => test(x, r));
  if ('or' in c) return c.or.some((x) => test(x, r));
  const d = cmp(r[c.field], c.value);
  return { eq: d === 0, ne: d !== 0, gt: d > 0, ge: d >= 0, lt: d < 0 }[c.op];
}

/** A small OData $filter parser: comparisons, and/or, parentheses; string, number and date-time literals. */
export function parseFilter(s: string): Cond {
  const tokens = s.match(/\(|\)|datetime(?:offset)?'[^']*'|'(?:[^']|'')*'|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const expr = (): Cond => {
    const parts = [term()];
    while (peek() === 'or') {
      i++;
      parts.push(term());
    }
    return parts.length === 1 ? parts[0] : { or: parts };
  };
  const term = (): Cond => {
    const parts = [factor()];
    while (peek() === 'and') {
      i++;
      parts.push(factor());
    }
    return parts.length === 1 ? parts[0] : { and: parts };
  };
  const factor = (): Cond => {
    if (peek() === '(') {
      i++;
      const e = expr();
      if (tokens[i++] !== ')') throw new Error('missing )');
      return e;
    }
    const field = tokens[i++];
    const op = tokens[i++];
    const lit = tokens[i++];
    if (!field || !/^\w+$/.test(field) || !['eq', 'gt', 'ge', 'lt', 'ne'].includes(op) || lit === undefined) throw new Error(`cannot read comparison at "${field} ${op} ${lit}"`);
    return { field, op: op as 'eq', value: literal(lit) };
  };
  const e = expr();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]}"`);
  return e;
}

function literal(t: string): string | number {
  const dt = t.match(/^datetime(?:offset)?'([^']*)'$/);
  if (dt) return new Date(dt[1].endsWith('Z') || /[+-]\d\d:\d\d$/.test(dt[1]) ? dt[1] : dt[1] + 'Z').toISOString();
  if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^\d{4}-\d\d-\d\dT/.test(t)) return t;
  throw new Error(`unsupported literal ${t}`);
}
