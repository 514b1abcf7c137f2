/**
 * Webhook delivery benchmark: deliveries/s from the outbox to a local subscriber, and the lag from
 * a case change's outbox commit to its arrival at the subscriber. The hub runs as its own process
 * (all roles); the subscriber and the event writer run here. For comparison, the same number of
 * signed POSTs sent by a bare undici loop (no database, no queue) to the same subscriber.
 *
 *   npm run bench:delivery                      # 5,000-event burst, then 500 events/s for 10 s
 *   npm run bench:delivery -- --burst=20000 --rate=1000 --seconds=20
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import os from 'node:os';
import { Agent, request } from 'undici';
import pg from 'pg';
import { sign, signingKey } from '../connectors/wms-webhook/standard-webhooks.js';
import { cleanup, freePort, newWorld, productionNodeFlags, sleep, spawnHub, stopHub, waitReady } from './lib/hub-process.js';
import { fmt, summary, table } from './lib/stats.js';

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const BURST = arg('burst', 5000);
const RATE = arg('rate', 500);
const SECONDS = arg('seconds', 10);
const CONCURRENCY = arg('concurrency', 64);

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function main() {
  // The subscriber: notes when each event arrives (by the eventId in the body).
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (body.data?.bench && !arrivals.has(body.data.bench)) arrivals.set(body.data.bench, performance.timeOrigin + performance.now());
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const subUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;

  const world = newWorld(databaseUrl, redisUrl);
  const port = await freePort();
  const hub = spawnHub(world, 'hub', {
    PORT: String(port),
    HUB_DELIVERY_ALLOW_HTTP: 'true',
    HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
    HUB_DELIVERY_CONCURRENCY: String(CONCURRENCY),
    HUB_RELAY_INTERVAL_MS: '20',
    HUB_AUDIT_SEAL_INTERVAL_MS: '1000',
  });
  const url = `http://127.0.0.1:${port}`;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4, options: `-c search_path=${world.tag}` });
  try {
    await waitReady(hub, url);
    const created = await fetch(`${url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', url: subUrl, eventTypes: ['case.opened'] }),
    });
    if (created.status !== 201) throw new Error(`subscription: ${created.status} ${await created.text()}`);
    const { secret } = (await created.json()) as { secret: string };

    // Case changes written straight into the outbox (as CaseIntake does, one row per case change),
    // so the figures are the delivery path's, not the inbound pipeline's.
    const commit = async (n: number) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      await db.query(
        `INSERT INTO outbox_events (type, case_id, entity_type, entity_id, team, code, severity, payload)
         SELECT 'case.opened', c::uuid, 'case', c, 'warehouse-ops', 'WAREHOUSE.PICK_SHORTFALL', 'high',
                jsonb_build_object('bench', c, 'case', jsonb_build_object('id', c, 'title', 'Pick shortfall on SO-1'))
           FROM unnest($1::text[]) AS c`,
        [ids],
      );
      const at = performance.timeOrigin + performance.now();
      return ids.map((id) => [id, at] as const);
    };
    const waitAll = async (ids: readonly (readonly [string, number])[], timeoutMs: number) => {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until && ids.some(([id]) => !arrivals.has(id))) await sleep(20);
      return ids.filter(([id]) => arrivals.has(id)).length;
    };

    // Warm-up
    await waitAll(await commit(200), 30_000);

    // 1. Burst: one commit of BURST case changes, time until the last one arrives.
    const burst = await commit(BURST);
    const burstStart = burst[0][1];
    const burstGot = await waitAll(burst, 300_000);
    const burstEnd = Math.max(...burst.map(([id]) => arrivals.get(id) ?? 0));
    const burstRate = burstGot / ((burstEnd - burstStart) / 1000);

    // 2. Steady: RATE case changes per second in 20 commits per second; lag per event.
    const steady: (readonly [string, number])[] = [];
    const per = Math.max(1, Math.round(RATE / 20));
    const t0 = Date.now();
    for (let tick = 0; tick < SECONDS * 20; tick++) {
      steady.push(...(await commit(per)));
      const next = t0 + (tick + 1) * 50;
      if (next > Date.now()) await sleep(next - Date.now());
    }
    const steadyGot = await waitAll(steady, 120_000);
    const lags = steady.filter(([id]) => arrivals.has(id)).map(([id, at]) => arrivals.get(id)! - at);
    const steadyEnd = Math.max(...steady.map(([id]) => arrivals.get(id) ?? 0));
    const steadyRate = steadyGot / ((steadyEnd - steady[0][1]) / 1000);
    const lag = summary(lags);

    // 3. Bare library: signed POSTs with undici at the same concurrency, no database or queue.
    const agent = new Agent({ connections: 64 });
    const key = signingKey(secret);
    const body = Buffer.from(JSON.stringify({ type: 'case.opened', data: { case: { id: 'x' } } }));
    let sent = 0;
    const bareStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < BURST) {
          sent++;
          const id = randomUUID();
          const ts = String(Math.floor(Date.now() / 1000));
          const r = await request(subUrl, { method: 'POST', dispatcher: agent, body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sign(key, id, ts, body)}` } });
          await r.body.dump();
        }
      }),
    );
    const bareRate = BURST / ((performance.now() - bareStart) / 1000);
    await agent.close();

    const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY 1`);
    console.log(`\nWebhook delivery benchmark · ${new Date().toISOString()} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · node ${process.version}`);
    console.log(`hub: one process, all roles, HUB_DELIVERY_CONCURRENCY=${CONCURRENCY}, node flags: ${process.env.BENCH_HUB_NODE_ARGS ?? productionNodeFlags()}; subscriber and writer in the bench process\n`);
    console.log(
      table(
        ['phase', 'events', 'delivered', 'deliveries/s', 'lag p50 ms', 'lag p99 ms', 'lag max ms'],
        [
          ['burst (one commit)', String(BURST), String(burstGot), fmt(burstRate, 0), '', '', ''],
          [`steady ${RATE}/s × ${SECONDS} s`, String(steady.length), String(steadyGot), fmt(steadyRate, 0), fmt(lag.p50, 0), fmt(lag.p99, 0), fmt(lag.max, 0)],
          ['bare undici + sign (no DB, no queue)', String(BURST), String(BURST), fmt(bareRate, 0), '', '', ''],
        ],
      ),
    );
    console.log(`\ndelivery rows: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}`);
  } finally {
    await db.end();
    await stopHub(hub);
    await cleanup(world);
    server.closeAllConnections();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
