import { readChanges, type Watermark } from './delta-reader.js';
import { ErpHttp, ErpHttpError } from './erp-http.js';
import { pollErp, watermarkKey } from './erp-poll.js';
import { LocalRequestBudget } from './request-budget.js';
import { ErpSimulator } from './simulator/erp-simulator.js';
import { seedOrders } from './simulator/sample-data.js';
import { simulatorInstance, type Style } from './simulator/test-instances.js';

/** Delta reading against the simulator over real HTTP: paging per style, ties, changes while reading, restarts. */
describe('ERP delta reading', () => {
  let sim: ErpSimulator;
  let http: ErpHttp;
  beforeEach(async () => {
    sim = new ErpSimulator();
    await sim.start();
    http = new ErpHttp(new LocalRequestBudget());
  });
  afterEach(() => sim.stop());

  const orders = (style: Style, extra = {}) => {
    const inst = simulatorInstance(sim, style, 'oauth2-client-credentials', extra);
    return { inst, feed: inst.config.feeds[0] };
  };
  const ids = (recs: Record<string, unknown>[]) => recs.map((r) => r.OrderId);

  it.each([
    ['odata-v4', {}, '@odata.nextLink'],
    ['odata-v2', {}, '__next'],
    ['odata-v2', { format: 'xml' }, 'Atom-style XML feed'],
    ['rest', {}, 'nextCursor'],
    ['rest', { format: 'xml' }, 'XML nextCursor'],
  ] as const)('%s %j pages through 25 records with %s, in (modified, key) order', async (style, extra) => {
    seedOrders(sim, 25);
    const { inst, feed } = orders(style, extra);
    const batch = await readChanges(http, inst, feed, null, { maxRecords: 1000 });
    expect(ids(batch.records)).toEqual(Array.from({ length: 25 }, (_, i) => `SO-${String(i + 1).padStart(6, '0')}`));
    expect(batch.requests).toBe(3);
    expect(batch.more).toBe(false);
    expect(batch.nextWatermark).toEqual({ key: 'SO-000025', modified: new Date(batch.nextWatermark!.modified).toISOString() });
    // Caught up: the next read asks with the watermark's filter and gets nothing.
    const again = await readChanges(http, inst, feed, batch.nextWatermark, { maxRecords: 1000 });
    expect(again.records).toEqual([]);
    expect(again.nextWatermark).toEqual(batch.nextWatermark);
    if (style !== 'rest') expect(sim.log[sim.log.length - 1].path).toContain('%20gt%20');
    if (style === 'odata-v2') expect(typeof batch.records[0].ModifiedAt === 'string' && (batch.records[0].ModifiedAt as string).endsWith('Z')).toBe(true);
  });

  it.each(['odata-v4', 'odata-v2', 'rest'] as const)('%s: records sharing one timestamp across page boundaries are read once each', async (style) => {
    seedOrders(sim, 7, { modifiedAt: '2026-11-27T08:00:00.000Z' });
    const { inst, feed } = orders(style);
    let wm: Watermark | null = null;
    const seen: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const b = await readChanges(http, inst, { ...feed, pageSize: 2 }, wm, { maxRecords: 2 });
      seen.push(...ids(b.records));
      wm = b.nextWatermark;
      if (!b.more) break;
    }
    expect(seen).toEqual(['SO-000001', 'SO-000002', 'SO-000003', 'SO-000004', 'SO-000005', 'SO-000006', 'SO-000007']);
  });

  it.each(['odata-v4', 'odata-v2', 'rest'] as const)('%s: records changed while pages are read are not lost', async (style) => {
    seedOrders(sim, 30);
    const { inst, feed } = orders(style);
    const first = await readChanges(http, inst, feed, null, { maxRecords: 10 });
    expect(first.records).toHaveLength(10);
    // Between pages: an already-read order and a not-yet-read one change in the ERP.
    sim.data.upsert('SalesOrders', { OrderId: 'SO-000003', CreditBlock: true, CreditBlockReason: 'limit' });
    sim.data.upsert('SalesOrders', { OrderId: 'SO-000015', PricingStatus: 'MISMATCH' });
    const rest = await readChanges(http, inst, feed, first.nextWatermark, { maxRecords: 1000 });
    const all = [...ids(first.records), ...ids(rest.records)];
    expect(new Set(all).size).toBe(30);
    // SO-000003 is read again because it changed (a new version), SO-000015 once, in its new version.
    expect(all.filter((x) => x === 'SO-000003')).toHaveLength(2);
    expect(rest.records.filter((r) => r.OrderId === 'SO-000015')).toEqual([expect.objectContaining({ PricingStatus: 'MISMATCH' })]);
    expect(ids(rest.records).slice(-2)).toEqual(['SO-000003', 'SO-000015']);
  });

  it('a poll that dies mid-way resumes from the last persisted page: no gaps, and the only repeats are the unpersisted page (same event ids)', async () => {
    seedOrders(sim, 45);
    const inst = simulatorInstance(sim, 'odata-v4', 'basic', { poll: { intervalMs: 60_000, maxRecordsPerRun: 10_000 } });
    inst.config.feeds = [inst.config.feeds[0]];
    const store = new Map<string, unknown>();
    const state = { get: async (k: string) => store.get(k), set: async (k: string, v: unknown) => void store.set(k, structuredClone(v)) };
    const ingested: string[] = [];
    let crashAfter = 23;
    const ingest = async (body: Buffer, meta: { eventId: string }) => {
      if (crashAfter-- === 0) throw new Error('worker killed');
      expect(JSON.parse(body.toString())).toMatchObject({ entityType: 'sales-order', records: [expect.any(Object)] });
      ingested.push(meta.eventId);
    };
    await expect(pollErp(http, inst, state, ingest)).rejects.toThrow('worker killed');
    expect(ingested).toHaveLength(23);
    expect((store.get(watermarkKey('sales-order')) as Watermark).key).toBe('SO-000020');
    // A record changes while the hub is down; a fresh process (new client, same state) carries on.
    sim.data.upsert('SalesOrders', { OrderId: 'SO-000030', CreditBlock: true });
    const summary = await pollErp(new ErpHttp(new LocalRequestBudget()), inst, state, ingest);
    expect(summary.feeds[0]).toMatchObject({ entityType: 'sales-order', records: 25, more: false });
    const unique = new Set(ingested);
    const orderIds = new Set([...unique].map((e) => e.split(':')[1]));
    expect(orderIds.size).toBe(45);
    // Repeats are exactly SO-000021..23 (ingested, page not persisted): identical event ids, so durable ingest drops them.
    expect(ingested.length - unique.size).toBe(3);
    expect(ingested.filter((e, i) => ingested.indexOf(e) !== i).map((e) => e.split(':')[1])).toEqual(['SO-000021', 'SO-000022', 'SO-000023']);
  });

  it('honors 429 Retry-After and rides out a 5xx burst; gives up after the configured attempts', async () => {
    seedOrders(sim, 5);
    const { inst, feed } = orders('odata-v4');
    sim.failNext(1, 429, { retryAfter: '1', match: 'SalesOrders' });
    const t0 = Date.now();
    expect((await readChanges(http, inst, feed, null, { maxRecords: 10 })).records).toHaveLength(5);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);

    sim.failNext(3, 503, { match: 'SalesOrders' });
    expect((await readChanges(http, inst, feed, null, { maxRecords: 10 })).records).toHaveLength(5);
    expect(sim.log.filter((l) => l.status === 503)).toHaveLength(3);

    sim.failNext(10, 502, { match: 'SalesOrders' });
    const err = await readChanges(http, inst, feed, null, { maxRecords: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(ErpHttpError);
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect(sim.faults).toHaveLength(5); // 1 try + 4 retries
  });

  it('OAuth2: the token is cached, refreshed once when the ERP says it expired', async () => {
    seedOrders(sim, 3);
    const { inst, feed } = orders('odata-v4');
    for (let i = 0; i < 3; i++) await readChanges(http, inst, feed, null, { maxRecords: 10 });
    expect(sim.tokensIssued).toBe(1);
    sim.expireTokens();
    expect((await readChanges(http, inst, feed, null, { maxRecords: 10 })).records).toHaveLength(3);
    expect(sim.tokensIssued).toBe(2);
    expect(sim.log.filter((l) => l.status === 401)).toHaveLength(1);
  });

  it('a record without its key or timestamp is a precise, non-retryable error', async () => {
    sim.data.sets.get('SalesOrders')!.push({ OrderId: 'SO-X' });
    const { inst, feed } = orders('rest');
    await expect(readChanges(http, inst, feed, null, { maxRecords: 10 })).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('lacks ModifiedAt') });
  });
});
