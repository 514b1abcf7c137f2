import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, newWorld, pickShortfall, postWebhook, sleep, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { freePort } from '../support/processes.js';
import { TestSubscriber } from '../support/subscriber.js';

/**
 * Case changes committed while Redis is down (its own redis-server, killed and restarted empty):
 * the outbox and the delivery rows carry them, the sweeper queues them when Redis is back, and
 * each is delivered once, with the delivery id as its webhook-id.
 */
describe('delivery across a Redis outage', () => {
  let world: TestWorld;
  let redis: ChildProcess | undefined;
  let startRedis: (() => ChildProcess) | undefined;
  let hub: Awaited<ReturnType<typeof startInProcess>> | undefined;
  const subscriber = new TestSubscriber();

  afterAll(async () => {
    // A hub closes its BullMQ connections cleanly only with Redis up.
    if (redis && (redis.exitCode !== null || redis.signalCode !== null) && startRedis) {
      redis = startRedis();
      await sleep(300);
    }
    await hub?.close();
    redis?.kill('SIGKILL');
    await subscriber.stop();
    await world?.drop();
  });

  it('loses nothing and sends nothing twice under a new id', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-redis-'));
    startRedis = () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    redis = startRedis();
    await sleep(300);
    world = newWorld({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      HUB_SWEEP_INTERVAL_MS: '300',
      HUB_DELIVERY_ALLOW_HTTP: 'true',
      HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
      HUB_DELIVERY_BACKOFF_MS: '50',
      HUB_DELIVERY_MAX_BACKOFF_MS: '300',
      HUB_RELAY_INTERVAL_MS: '50',
    });
    hub = await startInProcess(world);
    await subscriber.start();
    const s = await api(hub.url, 'POST', '/v1/subscriptions', {
      body: { name: 'desk', url: subscriber.url, eventTypes: ['case.opened', 'case.resolved'], filters: { codes: ['WAREHOUSE.PICK_SHORTFALL'] } },
    });
    expect(s.status).toBe(201);
    for (let i = 0; i < 10; i++) expect((await postWebhook(hub.url, world, pickShortfall(`SO-R${i}`, `SKU-${i}`))).status).toBe(202);
    await waitFor(async () => subscriber.received.length === 10, 20000, '10 case.opened deliveries');

    redis.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    subscriber.behaviour = (r) => (r.json.type === 'case.resolved' ? { status: 503 } : { status: 200, body: 'ok' });
    const { body: cases } = await api(hub.url, 'GET', '/v1/cases?limit=100');
    expect(cases.items).toHaveLength(10);
    for (const c of cases.items) {
      expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { body: { rootCause: 'OTHER' } })).status).toBe(200);
    }
    // The relay and a first attempt need only PostgreSQL: fresh deliveries go straight to the sender
    // while Redis is down. The subscriber fails them, and their retries cannot be queued: they stay
    // pending in PostgreSQL until the sweeper queues them again once Redis is back.
    await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_type = 'case.resolved' AND status = 'pending' AND attempts = 1`);
      return rows[0].n === 10;
    }, 20000, '10 case.resolved attempted once with Redis down');
    await sleep(1000);
    expect(subscriber.received).toHaveLength(20);
    subscriber.behaviour = () => ({ status: 200, body: 'ok' });

    redis = startRedis(); // empty: every queued job is gone
    await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`);
      return rows[0].n === 20;
    }, 30000, '20 delivered');
    await sleep(500);
    const ok = subscriber.received.filter((r) => r.answered === 200);
    const ids = ok.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    expect(new Set(ok.map((r) => r.json.eventId)).size).toBe(20);
    const { rows } = await world.db.query(`SELECT id FROM deliveries`);
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
    expect(ok.filter((r) => r.json.type === 'case.resolved')).toHaveLength(10);
    // A retry keeps the webhook-id of its first attempt.
    const failed = subscriber.received.filter((r) => r.answered === 503).map((r) => String(r.headers['webhook-id']));
    expect(new Set(failed)).toEqual(new Set(ok.filter((r) => r.json.type === 'case.resolved').map((r) => String(r.headers['webhook-id']))));
  });
});
