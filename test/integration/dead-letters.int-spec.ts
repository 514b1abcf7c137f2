import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

/**
 * Infrastructure failures (here: the database refusing one order's exception through a trigger,
 * a real fault injected into the real PostgreSQL) are retried, split out of their batch, and end
 * as dead letters that are listed and replayable. Nothing is lost or duplicated.
 */
describe('retries, dead letters and replay', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };

  beforeAll(async () => {
    world = newWorld({ HUB_PIPELINE_ATTEMPTS: '3', HUB_PIPELINE_BACKOFF_MS: '50' });
    hub = await startInProcess(world);
    await world.db.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.order_ref LIKE 'SO-POISON%' THEN RAISE EXCEPTION 'injected fault for %', NEW.order_ref; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON exceptions FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('keeps good messages of a batch flowing, dead-letters the poison one, and replays it once fixed', async () => {
    // Sent together so they share group-commit batches with the poison message.
    const sent = await Promise.all([
      postWebhook(hub.url, world, pickShortfall('SO-GOOD-1')),
      postWebhook(hub.url, world, pickShortfall('SO-POISON-1')),
      postWebhook(hub.url, world, pickShortfall('SO-GOOD-2')),
      postWebhook(hub.url, world, pickShortfall('SO-GOOD-3')),
    ]);
    expect(sent.map((s) => s.status)).toEqual([202, 202, 202, 202]);
    const poisonId = sent[1].body.messageId;

    const dead = await waitFor(async () => {
      const r = await api(hub.url, 'GET', '/v1/messages?status=dead');
      return r.body.items.find((m: any) => m.id === poisonId);
    }, 20000, 'poison message to be dead');
    expect(dead.attempts).toBe(3);
    expect(dead.errors.map((e: any) => e.stage)).toEqual(['pipeline', 'pipeline', 'pipeline']);
    expect(dead.errors[2].message).toMatch(/injected fault for SO-POISON-1/);

    for (const s of [sent[0], sent[2], sent[3]]) {
      const m = (await api(hub.url, 'GET', `/v1/messages/${s.body.messageId}`)).body;
      expect(m.status).toBe('routed');
    }
    const audit = (await api(hub.url, 'GET', `/v1/audit?entityType=message&entityId=${poisonId}`)).body.items.map((a: any) => a.action);
    expect(audit).toEqual(['message.accepted', 'message.dead']);

    const notYet = await api(hub.url, 'POST', `/v1/messages/${sent[0].body.messageId}/replay`);
    expect(notYet.status).toBe(409);

    await world.db.query(`DROP TRIGGER refuse_poison ON exceptions`);
    const replay = await api(hub.url, 'POST', `/v1/messages/${poisonId}/replay`);
    expect(replay.status).toBe(201);
    const routed = await waitFor(async () => {
      const m = (await api(hub.url, 'GET', `/v1/messages/${poisonId}`)).body;
      return m.status === 'routed' ? m : undefined;
    });
    expect(routed.exceptions).toHaveLength(1);
    const trail = (await api(hub.url, 'GET', `/v1/audit?entityType=message&entityId=${poisonId}`)).body.items.map((a: any) => a.action);
    expect(trail).toEqual(['message.accepted', 'message.dead', 'message.replayed', 'message.processed']);

    // Replaying again is refused: the message is routed; nothing is processed twice.
    expect((await api(hub.url, 'POST', `/v1/messages/${poisonId}/replay`)).status).toBe(409);
    const { rows } = await world.db.query(`SELECT order_ref, count(*)::int AS n FROM exceptions WHERE order_ref LIKE 'SO-%' GROUP BY order_ref ORDER BY order_ref`);
    expect(rows).toEqual([
      { order_ref: 'SO-GOOD-1', n: 1 },
      { order_ref: 'SO-GOOD-2', n: 1 },
      { order_ref: 'SO-GOOD-3', n: 1 },
      { order_ref: 'SO-POISON-1', n: 1 },
    ]);
  });

  it('re-enqueues messages stored while the queue was unreachable (sweeper)', async () => {
    // A message persisted but never enqueued, as after a Redis outage at accept time.
    const res = await postWebhook(hub.url, world, pickShortfall('SO-SWEEP-1'));
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}`)).body.status === 'routed');
    const orphanId = '01a21cd0-0000-7000-8000-000000000001';
    await world.db.query(
      `INSERT INTO inbound_messages (id, connector_id, connector_type, sender_event_id, sha256, content_type, size_bytes, raw, received_at, enqueued_at)
       VALUES ($1, 'test-wms', 'wms-webhook', 'evt-orphan', repeat('a', 64), 'application/json', $3, $2, now() - interval '5 seconds', NULL)`,
      [orphanId, Buffer.from(pickShortfall('SO-SWEEP-2')), Buffer.byteLength(pickShortfall('SO-SWEEP-2'))],
    );
    const m = await waitFor(async () => {
      const r = (await api(hub.url, 'GET', `/v1/messages/${orphanId}`)).body;
      return r.status === 'routed' ? r : undefined;
    }, 10000, 'swept message to be routed');
    expect(m.exceptions).toHaveLength(1);
  });
});
