import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { newWorld, pickShortfall, postWebhook, sleep, spawnHub, waitFor, waitForHttp, type TestWorld } from '../support/hub-harness.js';
import { freePort, stop } from '../support/processes.js';

/**
 * Separate api and worker processes of the built hub on one PostgreSQL and Redis: a worker killed
 * with SIGKILL mid-run, two workers at once, and Redis stopped while events are accepted.
 * In every case each accepted event yields exactly one exception, and each order one case.
 */
async function settle(world: TestWorld, expected: number, timeoutMs = 60000) {
  return waitFor(async () => {
    const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE status = 'routed'`);
    return rows[0].n === expected ? rows[0].n : undefined;
  }, timeoutMs, `${expected} routed messages`);
}

async function assertExactlyOnce(world: TestWorld, events: number, orders: number) {
  const { rows: exc } = await world.db.query(
    `SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS messages, count(DISTINCT case_id)::int AS cases FROM exceptions`,
  );
  expect(exc[0]).toEqual({ n: events, messages: events, cases: orders });
  const { rows: cases } = await world.db.query(`SELECT count(*)::int AS n, sum(exception_count)::int AS total FROM cases`);
  expect(cases[0]).toEqual({ n: orders, total: events });
  const { rows: audit } = await world.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'exception.created'`);
  expect(audit[0].n).toBe(events);
}

async function send(base: string, world: TestWorld, events: number, orders: number, tag: string) {
  const statuses: number[] = [];
  for (let i = 0; i < events; i += 25) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(25, events - i) }, (_, j) =>
        postWebhook(base, world, pickShortfall(`SO-${tag}-${(i + j) % orders}`, `SKU-${i + j}`)),
      ),
    );
    statuses.push(...chunk.map((c) => c.status));
  }
  expect(statuses.every((s) => s === 202)).toBe(true);
}

describe('multi-process durability', () => {
  let world: TestWorld;
  const procs: ChildProcess[] = [];

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
    await world?.drop();
  });

  it('loses and duplicates nothing when a worker is SIGKILLed mid-run and restarted', async () => {
    // Small batches in every process (the worker scoops up to HUB_INGEST_BATCH_MAX waiting messages
    // per transaction; with the default it could take all 300 in one and finish before the kill).
    world = newWorld({ HUB_QUEUE_LOCK_MS: '2000', HUB_INGEST_BATCH_MAX: '5' });
    const port = await freePort();
    const apiProc = spawnHub(world, { HUB_ROLES: 'api,scheduler', PORT: String(port) });
    procs.push(apiProc);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`);
    // Small batches and a slow-ish worker so the kill lands with jobs in flight.
    await send(base, world, 300, 60, 'KILL');
    const worker = spawnHub(world, { HUB_ROLES: 'worker', HUB_WORKER_CONCURRENCY: '2' });
    procs.push(worker);
    await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE status = 'routed'`);
      return rows[0].n > 0;
    }, 20000, 'the worker to start processing');
    await stop(worker, 'SIGKILL');
    const { rows: midway } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE status = 'routed'`);
    const restarted = spawnHub(world, { HUB_ROLES: 'worker' });
    procs.push(restarted);
    await settle(world, 300);
    await assertExactlyOnce(world, 300, 60);
    // The kill landed mid-run: some messages were done, others not yet.
    expect(midway[0].n).toBeGreaterThan(0);
    expect(midway[0].n).toBeLessThan(300);
  });

  it('two worker processes never process the same message twice', async () => {
    world = newWorld();
    const port = await freePort();
    procs.push(spawnHub(world, { HUB_ROLES: 'api', PORT: String(port) }));
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`);
    procs.push(spawnHub(world, { HUB_ROLES: 'worker,scheduler' }), spawnHub(world, { HUB_ROLES: 'worker' }));
    await send(base, world, 400, 50, 'TWO');
    await settle(world, 400);
    await assertExactlyOnce(world, 400, 50);
    const { rows } = await world.db.query(`SELECT max(attempts)::int AS a FROM inbound_messages`);
    expect(rows[0].a).toBe(1);
  });

  it('accepts events while Redis is down and routes them once Redis is back', async () => {
    const redisPort = await freePort();
    const redisDir = mkdtempSync(`${tmpdir()}/hub-redis-`);
    const startRedis = () => {
      const r = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { stdio: 'ignore' });
      procs.push(r);
      return r;
    };
    let redis = startRedis();
    await sleep(300);
    world = newWorld({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, HUB_SWEEP_INTERVAL_MS: '300' });
    const port = await freePort();
    procs.push(spawnHub(world, { PORT: String(port) }));
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`);
    await send(base, world, 20, 5, 'UP');
    await settle(world, 20);

    await stop(redis, 'SIGKILL');
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    // Accepts keep working: persisted before the answer, queued later by the sweeper.
    await send(base, world, 30, 5, 'DOWN');
    const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE status = 'received'`);
    expect(rows[0].n).toBe(30);

    redis = startRedis();
    await settle(world, 50, 60000);
    await assertExactlyOnce(world, 50, 10);
  });
});
