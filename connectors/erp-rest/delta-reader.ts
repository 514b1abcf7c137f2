import type { Feed } from './erp-config.js';
import { ErpHttpError, type ErpHttp, type ErpInstance } from './erp-http.js';

export type ErpRecord = Record<string, unknown>;

/**
 * Where a feed has been read up to: the last record's modification time and key. The next read
 * asks for `modified > ts or (modified = ts and key > lastKey)` ordered by (modified, key), so
 * records sharing a timestamp across a page boundary are neither skipped nor read twice.
 */
export interface Watermark {
  modified: string;
  key: string;
}

export interface ChangeBatch {
  records: ErpRecord[];
  /** Unchanged when nothing new was read. */
  nextWatermark: Watermark | null;
  /** The ERP has more changes after nextWatermark. */
  more: boolean;
  requests: number;
}

interface Page {
  records: ErpRecord[];
  next?: string;
}

/**
 * Reads changed records of one feed after `watermark`, in (modified, key) order, up to
 * `budget.maxRecords` (a page may overshoot by less than one page). Pure with respect to state:
 * the caller persists nextWatermark once it has durably taken the records, so a restart resumes
 * from the last persisted page with no gap and no duplicate.
 */
export async function readChanges(http: ErpHttp, inst: ErpInstance, feed: Feed, watermark: Watermark | null, budget: { maxRecords: number; signal?: AbortSignal }): Promise<ChangeBatch> {
  const out: ErpRecord[] = [];
  let wm = watermark;
  let requests = 0;
  let next: string | undefined;
  let first = true;
  while (first || (next && out.length < budget.maxRecords)) {
    const page = first ? await firstPage(http, inst, feed, wm, budget.signal) : await followPage(http, inst, feed, next!, budget.signal);
    first = false;
    requests++;
    for (const raw of page.records) {
      const rec = inst.config.style === 'odata-v2' ? normalizeV2(raw) : raw;
      const mark = markOf(rec, feed);
      // A server whose continuation is offset based could hand back what was read; never pass it on twice.
      if (wm && compareMarks(mark, wm) <= 0) continue;
      out.push(rec);
      wm = mark;
    }
    next = page.next;
  }
  return { records: out, nextWatermark: wm, more: !!next, requests };
}

function markOf(rec: ErpRecord, feed: Feed): Watermark {
  const m = rec[feed.modified];
  const k = rec[feed.key];
  if (m === undefined || m === null || k === undefined || k === null) {
    throw new ErpHttpError(200, `ERP record in ${feed.entitySet} lacks ${m == null ? feed.modified : feed.key}; check feeds[].modified and feeds[].key`, false);
  }
  const modified = String(m);
  if (Number.isNaN(Date.parse(modified))) throw new ErpHttpError(200, `ERP record ${String(k)} in ${feed.entitySet}: ${feed.modified} "${modified}" is not a timestamp`, false);
  return { modified, key: String(k) };
}

export function compareMarks(a: Watermark, b: Watermark): number {
  const t = Date.parse(a.modified) - Date.parse(b.modified);
  if (t !== 0) return t;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function firstPage(http: ErpHttp, inst: ErpInstance, feed: Feed, wm: Watermark | null, signal?: AbortSignal): Promise<Page> {
  const style = inst.config.style;
  if (style === 'rest') {
    const query: Record<string, string> = { limit: String(feed.pageSize), ...(wm ? { since: wm.modified, sinceKey: wm.key } : {}) };
    return restPage(feed, await http.call(inst, { path: feed.entitySet, query, signal }).then((r) => r.body));
  }
  const ts = style === 'odata-v4' ? new Date(wm?.modified ?? 0).toISOString() : `datetimeoffset${quote(new Date(wm?.modified ?? 0).toISOString())}`;
  const query: Record<string, string> = {
    $orderby: `${feed.modified},${feed.key}`,
    $top: String(feed.pageSize),
    ...(wm ? { $filter: `${feed.modified} gt ${ts} or (${feed.modified} eq ${ts} and ${feed.key} gt ${quote(wm.key)})` } : {}),
    ...(style === 'odata-v2' && inst.config.format === 'json' ? { $format: 'json' } : {}),
  };
  return odataPage(inst, await http.call(inst, { path: feed.entitySet, query, signal }).then((r) => r.body));
}

async function followPage(http: ErpHttp, inst: ErpInstance, feed: Feed, next: string, signal?: AbortSignal): Promise<Page> {
  const body = (await http.call(inst, { path: next, signal })).body;
  return inst.config.style === 'rest' ? restPage(feed, body) : odataPage(inst, body);
}

/** OData v4 `value` + `@odata.nextLink`; v2 `d.results` + `d.__next`, or an Atom-style XML feed. */
function odataPage(inst: ErpInstance, body: unknown): Page {
  const b = body as any;
  if (inst.config.style === 'odata-v4') {
    if (!Array.isArray(b?.value)) throw shape(inst, 'an OData v4 collection with "value"');
    return { records: b.value, next: b['@odata.nextLink'] };
  }
  if (b?.feed !== undefined) {
    const entries = (b.feed?.entry ?? []) as any[];
    const links = [b.feed?.link ?? []].flat() as any[];
    return { records: entries.map((e) => ({ ...(e?.content?.properties ?? {}) })), next: links.find((l) => l?.['@_rel'] === 'next')?.['@_href'] };
  }
  if (!Array.isArray(b?.d?.results)) throw shape(inst, 'an OData v2 collection with "d.results"');
  return { records: b.d.results, next: b.d.__next };
}

/** REST: `{ data: [...], nextCursor }` as JSON, or `<response><records><record/>…</records><nextCursor/></response>`. */
function restPage(feed: Feed, body: unknown): Page {
  const b = body as any;
  const cursorPage = (records: ErpRecord[], cursor: unknown): Page => ({ records, next: cursor ? `${feed.entitySet}?limit=${feed.pageSize}&cursor=${encodeURIComponent(String(cursor))}` : undefined });
  if (b?.response !== undefined) return cursorPage([b.response?.records?.record ?? []].flat(), b.response?.nextCursor);
  if (!Array.isArray(b?.data)) throw new ErpHttpError(200, 'ERP REST answer is not { data: [...], nextCursor }', false);
  return cursorPage(b.data, b.nextCursor);
}

function shape(inst: ErpInstance, what: string) {
  return new ErpHttpError(200, `ERP ${inst.id} answer is not ${what}; check config.style`, false);
}

/** SAP Gateway v2 dates (`/Date(1700000000000)/`, optionally with an offset) as ISO timestamps. */
export function normalizeV2(rec: ErpRecord): ErpRecord {
  const out: ErpRecord = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === '__metadata') continue;
    const m = typeof v === 'string' ? v.match(/^\/Date\((-?\d+)([+-]\d+)?\)\/$/) : null;
    out[k] = m ? new Date(Number(m[1])).toISOString() : v;
  }
  return out;
}
