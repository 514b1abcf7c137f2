import type { ErpHttp, ErpInstance } from './erp-http.js';
import { readChanges, type Watermark } from './delta-reader.js';

/** Durable per-instance state the poll keeps its watermarks in (the core's PollContext state at merge). */
export interface PollState {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/**
 * Durable ingest of one message (the core stores it before answering; a resent eventId is a
 * duplicate, not a second message). Body: `{"entityType": ..., "records": [record]}`.
 */
export type PollIngest = (body: Buffer, meta: { eventId: string; contentType: string; entityType: string }) => Promise<unknown>;

export interface PollSummary {
  feeds: { entityType: string; records: number; requests: number; watermark: Watermark | null; more: boolean }[];
}

export const watermarkKey = (entityType: string) => `watermark:${entityType}`;

/**
 * One poll of every feed of an ERP instance: read a page of changes after the stored watermark,
 * ingest each record as its own message, then persist the page's watermark; repeat until caught
 * up or `poll.maxRecordsPerRun`. A crash between ingest and persist re-reads that page on the
 * next run, and the records' event ids (`entityType:key:modified`) make the re-ingest a duplicate.
 *
 * Signature for the core polling contract: `poll(instance, ctx)` →
 * `pollErp(http, instance, ctx.state, (body, meta) => ctx.ingest(body, meta))`.
 */
export async function pollErp(http: ErpHttp, inst: ErpInstance, state: PollState, ingest: PollIngest, signal?: AbortSignal): Promise<PollSummary> {
  const summary: PollSummary = { feeds: [] };
  for (const feed of inst.config.feeds) {
    let wm = ((await state.get(watermarkKey(feed.entityType))) as Watermark | null | undefined) ?? null;
    let total = 0;
    let requests = 0;
    let more = true;
    while (more && total < inst.config.poll.maxRecordsPerRun) {
      const batch = await readChanges(http, inst, feed, wm, { maxRecords: feed.pageSize, signal });
      requests += batch.requests;
      for (const rec of batch.records) {
        const eventId = `${feed.entityType}:${String(rec[feed.key])}:${String(rec[feed.modified])}`.slice(0, 256);
        await ingest(Buffer.from(JSON.stringify({ entityType: feed.entityType, records: [rec] })), { eventId, contentType: 'application/json', entityType: feed.entityType });
      }
      total += batch.records.length;
      if (batch.nextWatermark && batch.records.length) {
        wm = batch.nextWatermark;
        await state.set(watermarkKey(feed.entityType), wm);
      }
      more = batch.more && batch.records.length > 0;
    }
    summary.feeds.push({ entityType: feed.entityType, records: total, requests, watermark: wm, more });
  }
  return summary;
}
