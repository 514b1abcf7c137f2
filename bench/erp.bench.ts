import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { readChanges, type Watermark } from '../connectors/erp-rest/delta-reader.js';
import { ErpHttp, type ErpInstance } from '../connectors/erp-rest/erp-http.js';
import { ErpRestConnector } from '../connectors/erp-rest/erp-rest.connector.js';
import { RedisRequestBudget } from '../connectors/erp-rest/request-budget.js';
import { ErpSimulator } from '../connectors/erp-rest/simulator/erp-simulator.js';
import { seedOrders } from '../connectors/erp-rest/simulator/sample-data.js';
import { simulatorInstance, type Style } from '../connectors/erp-rest/simulator/test-instances.js';
import { completeDraft } from '../src/canonical/exception-draft.js';
import { loadMapping, runMapping } from '../src/mapping/mapping-registry.service.js';
import { ROOT } from './lib/hub-process.js';

/**
 * ERP delta reading (issue 8): records/s read from the simulator over HTTP in each API style,
 * through the connector's reader (shared Redis budget, retries, watermark), and the same with
 * connector.parse + the erp-rest mapping + canonical validation per record. Baseline: a bare
 * fetch loop over the same pages (follow nextLink, JSON.parse), no budget, no watermark.
 *
 *   npm run bench:erp -- [--records=20000] [--page=500] [--every=5]
 * The simulator runs in this process, so its CPU is part of every figure (bare loop included).
 */
function flag(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = hit ? Number(hit.split('=')[1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function main() {
  const records = flag('records', 20_000);
  const page = flag('page', 500);
  const every = flag('every', 5);
  const sim = new ErpSimulator();
  await sim.start();
  seedOrders(sim, records, { every });
  const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `bench_${randomBytes(5).toString('hex')}`;
  const http = new ErpHttp(new RedisRequestBudget(redis, prefix));
  const budget = { requestsPerSecond: 10_000, concurrency: 8 };
  const rows: { phase: string; style: string; records: number; requests: number; seconds: number; perSecond: number; exceptions?: number }[] = [];
  const mapping = await loadMapping(path.join(ROOT, 'mappings/erp-rest/1.0.0'));
  const connector = new ErpRestConnector(http);

  try {
    for (const style of ['odata-v4', 'odata-v2', 'rest'] as Style[]) {
      const inst = simulatorInstance(sim, style, 'basic', { budget });
      inst.config.feeds = [{ ...inst.config.feeds[0], pageSize: page }];
      rows.push(await bareLoop(sim, inst, page, style));
      rows.push(await reader(http, inst, style, false));
      if (style === 'odata-v4') rows.push(await reader(http, inst, style, true));
    }
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await sim.stop();
  }
  console.log(`\nERP delta reading: ${records} sales orders (every ${every}th on credit hold), pages of ${page}\n`);
  console.log('phase                              style      records  requests   seconds   records/s  exceptions');
  for (const r of rows) {
    console.log(`${r.phase.padEnd(34)} ${r.style.padEnd(9)} ${String(r.records).padStart(8)} ${String(r.requests).padStart(9)} ${r.seconds.toFixed(2).padStart(9)} ${Math.round(r.perSecond).toString().padStart(11)} ${String(r.exceptions ?? '').padStart(11)}`);
  }
  console.log(JSON.stringify({ bench: 'erp', records, page, every, rows }));

  async function reader(h: ErpHttp, inst: ErpInstance, style: Style, map: boolean) {
    const feed = inst.config.feeds[0];
    let wm: Watermark | null = null;
    let n = 0;
    let requests = 0;
    let exceptions = 0;
    const t0 = performance.now();
    for (;;) {
      const b = await readChanges(h, inst, feed, wm, { maxRecords: page });
      requests += b.requests;
      n += b.records.length;
      if (map) {
        const docs = connector.parse(Buffer.from(JSON.stringify({ entityType: feed.entityType, records: b.records })));
        for (const d of docs) {
          for (const draft of await runMapping(mapping, d.payload, { type: d.documentType })) {
            const out = completeDraft(draft, { system: 'erp', connectorId: 'erp', connectorType: 'erp-rest', messageId: '01a21cd0-0000-7000-8000-000000000001', documentType: d.documentType, testMode: false, receivedAt: new Date(), mapping: { id: 'erp-rest', version: '1.0.0' } });
            if (!out.ok) throw new Error(`mapping produced an invalid exception: ${JSON.stringify(out.problems)}`);
            exceptions++;
          }
        }
      }
      wm = b.nextWatermark;
      if (!b.more) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (n !== records) throw new Error(`${style}: read ${n} records, expected ${records}`);
    return { phase: map ? 'reader + parse + map + validate' : 'connector reader', style, records: n, requests, seconds, perSecond: n / seconds, ...(map ? { exceptions } : {}) };
  }
}

/** The bare library: fetch the first page with $top, follow the server's continuation, JSON.parse. */
async function bareLoop(sim: ErpSimulator, inst: ErpInstance, page: number, style: Style) {
  const auth = `Basic ${Buffer.from(`${sim.creds.username}:${sim.creds.password}`).toString('base64')}`;
  const feed = inst.config.feeds[0];
  let url: string | undefined =
    style === 'rest' ? `${inst.config.baseUrl}/${feed.entitySet}?limit=${page}` : `${inst.config.baseUrl}/${feed.entitySet}?$top=${page}&$orderby=ModifiedAt,OrderId${style === 'odata-v2' ? '&$format=json' : ''}`;
  let n = 0;
  let requests = 0;
  const t0 = performance.now();
  while (url) {
    const res = await fetch(url, { headers: { authorization: auth, accept: 'application/json' } });
    const b = (await res.json()) as any;
    requests++;
    const recs = b.value ?? b.d?.results ?? b.data;
    n += recs.length;
    const next: string | undefined = b['@odata.nextLink'] ?? b.d?.__next ?? (b.nextCursor ? `${feed.entitySet}?limit=${page}&cursor=${b.nextCursor}` : undefined);
    url = next ? (next.startsWith('/') ? sim.url + next : `${inst.config.baseUrl}/${next}`) : undefined;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { phase: 'bare fetch loop', style, records: n, requests, seconds, perSecond: n / seconds };
}

main()
  .then(() => undefined)
  .catch((e) => {
    console.error(`bench:erp failed: ${(e as Error).message}`);
    process.exit(1);
  });
