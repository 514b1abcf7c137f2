import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { REDIS_URL, api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { TestSubscriber } from '../support/subscriber.js';

/**
 * A backlog larger than the senders can hold: first attempts wait in the deliveries table and are
 * taken from it in order as sends finish (no BullMQ job each), every delivery goes exactly once,
 * and a case's events reach a subscriber in the order they happened.
 */
jest.setTimeout(180_000);

describe('delivery backlog', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let sub: TestSubscriber;

  beforeAll(async () => {
    world = newWorld({
      HUB_DELIVERY_ALLOW_HTTP: 'true',
      HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
      HUB_DELIVERY_CONCURRENCY: '3',
      HUB_RELAY_INTERVAL_MS: '50',
      HUB_DELIVERY_BACKOFF_MS: '100',
      HUB_DELIVERY_MAX_BACKOFF_MS: '200',
    });
    hub = await startInProcess(world);
    sub = await new TestSubscriber().start();
    sub.delayMs = 25;
  });
  afterAll(async () => {
    await hub?.close();
    await sub?.stop();
    await world?.drop();
  });

  it('drains a backlog from the table in per-case order, once each, without queueing first attempts', async () => {
    await api(hub.url, 'POST', '/v1/subscriptions', {
      body: { name: 'backlog', url: sub.url, eventTypes: ['case.opened', 'case.updated', 'exception.created'] },
    });
    // 12 orders x 3 lines: each order's shortfalls group into one case (opened, then updated twice).
    const posts: Promise<unknown>[] = [];
    for (let o = 0; o < 12; o++) for (let l = 0; l < 3; l++) posts.push(postWebhook(hub.url, world, pickShortfall(`SO-BL-${o}`, `SKU-${l}`)));
    await Promise.all(posts);
    await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT count(*) FILTER (WHERE status <> 'delivered')::int AS open, count(*)::int AS n FROM deliveries`);
      return rows[0].n >= 36 && rows[0].open === 0 && (await world.db.query(`SELECT 1 FROM outbox_events WHERE published_at IS NULL`)).rowCount === 0;
    }, 60000, 'every delivery delivered');

    const { rows: deliveries } = await world.db.query(`SELECT id, case_id, seq::int AS seq, attempts FROM deliveries ORDER BY seq`);
    const seqOf = new Map(deliveries.map((d) => [d.id, d]));
    const ids = sub.received.map((r) => String(r.headers['webhook-id']));
    // Exactly once: every delivery arrived, none twice, each in one attempt.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(deliveries.length);
    expect(deliveries.every((d) => d.attempts === 1)).toBe(true);
    // Per case, arrivals follow the delivery order.
    const lastSeq = new Map<string, number>();
    for (const id of ids) {
      const d = seqOf.get(id)!;
      if (!d.case_id) continue;
      expect(d.seq).toBeGreaterThan(lastSeq.get(d.case_id) ?? 0);
      lastSeq.set(d.case_id, d.seq);
    }
    expect(lastSeq.size).toBe(12);

    // First attempts never went through BullMQ: its event stream saw no job added.
    const redis = new Redis(REDIS_URL);
    try {
      const events = await redis.xrange(`${world.prefix}:delivery:events`, '-', '+');
      expect(events.filter(([, f]) => f[1] === 'added')).toEqual([]);
      // A retry does (this also proves the stream looked at is the delivery queue's).
      sub.behaviour = (_r, n) => (n === ids.length ? { status: 503 } : { status: 200 });
      await postWebhook(hub.url, world, pickShortfall('SO-BL-RETRY'));
      await waitFor(async () => sub.received.length >= ids.length + 3, 30000, 'retried after a 503');
      const after = await redis.xrange(`${world.prefix}:delivery:events`, '-', '+');
      expect(after.filter(([, f]) => f[1] === 'added').length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});
