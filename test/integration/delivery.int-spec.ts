import { Webhook } from 'standardwebhooks';
import { api, newWorld, pickShortfall, postWebhook, sleep, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { TestSubscriber } from '../support/subscriber.js';

/**
 * Webhook delivery end to end against a real HTTP subscriber on 127.0.0.1: signatures checked with
 * the independent `standardwebhooks` package, retries, Retry-After, timeouts, 410, dead letters and
 * replay, per-case order, the address guard, the SSE stream, and the audit hash chain.
 */
import { jest } from '@jest/globals';

jest.setTimeout(180_000);

describe('webhook delivery', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let sub: TestSubscriber;
  let n = 0;
  let lingering: Response | undefined;

  beforeAll(async () => {
    world = newWorld({
      HUB_DELIVERY_ALLOW_HTTP: 'true',
      HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
      HUB_DELIVERY_BACKOFF_MS: '40',
      HUB_DELIVERY_MAX_BACKOFF_MS: '200',
      HUB_DELIVERY_ATTEMPTS: '4',
      HUB_DELIVERY_TIMEOUT_MS: '400',
      HUB_RELAY_INTERVAL_MS: '30',
      HUB_AUDIT_SEAL_INTERVAL_MS: '100',
      HUB_SSE_KEEPALIVE_MS: '200',
    });
    hub = await startInProcess(world);
    sub = await new TestSubscriber().start();
  });
  afterEach(async () => {
    if (process.env.DEBUG_DELIVERY) {
      console.log(JSON.stringify((await world.db.query(`SELECT d.status, d.attempts, d.next_attempt_at, d.lease_until, now() AS now, (SELECT json_agg(a) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS att FROM deliveries d`)).rows, null, 1));
      console.log(sub.received.map((r) => [r.at, r.answered]));
    }
    const { body } = await api(hub.url, 'GET', '/v1/subscriptions');
    for (const s of body.items ?? []) await api(hub.url, 'DELETE', `/v1/subscriptions/${s.id}`);
    sub.behaviour = () => ({ status: 200, body: 'ok' });
    sub.received.length = 0;
  });
  afterAll(async () => {
    await hub?.close();
    if (lingering) expect(await lingering.text()).toMatch(/^: connected/); // ended by the shutdown
    await sub?.stop();
    await world?.drop();
  });

  async function subscribe(extra: Record<string, unknown> = {}) {
    const r = await api(hub.url, 'POST', '/v1/subscriptions', {
      body: { name: 'service desk', url: sub.url, eventTypes: ['case.opened'], filters: { codes: ['WAREHOUSE.PICK_SHORTFALL'] }, ...extra },
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; secret: string };
  }
  const shortfall = (order = `SO-D${++n}`) => postWebhook(hub.url, world, pickShortfall(order, `SKU-${n}`));
  const deliveriesOf = async (subscriptionId: string) => (await api(hub.url, 'GET', `/v1/deliveries?subscriptionId=${subscriptionId}`)).body.items as any[];
  const attemptsOf = async (id: string) => (await api(hub.url, 'GET', `/v1/deliveries/${id}/attempts`)).body.items as any[];

  it('signs with Standard Webhooks; during a rotation overlap both secrets verify', async () => {
    const s = await subscribe();
    expect(s.secret).toMatch(/^whsec_/);
    expect((await api(hub.url, 'GET', `/v1/subscriptions/${s.id}`)).body).not.toHaveProperty('secret');
    await shortfall();
    const first = await waitFor(async () => sub.received[0], 30000, 'first delivery');
    expect(first.json.type).toBe('case.opened');
    expect(first.json.data.case.code).toBe('WAREHOUSE.PICK_SHORTFALL');
    expect(new Webhook(s.secret).verify(first.body, first.headers as Record<string, string>)).toMatchObject({ type: 'case.opened' });
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(first.body, first.headers as Record<string, string>)).toThrow();

    const rot = await api(hub.url, 'POST', `/v1/subscriptions/${s.id}/rotate-secret`, { body: { overlapHours: 1 } });
    expect(rot.status).toBe(201);
    await shortfall();
    const second = await waitFor(async () => sub.received[1], 30000, 'second delivery');
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [s.secret, rot.body.secret]) {
      expect(new Webhook(secret).verify(second.body, second.headers as Record<string, string>)).toMatchObject({ type: 'case.opened' });
    }
    // An overlap of 0 retires the old secret at once: only the newest signs.
    const rot2 = await api(hub.url, 'POST', `/v1/subscriptions/${s.id}/rotate-secret`, { body: { overlapHours: 0 } });
    await shortfall();
    const third = await waitFor(async () => sub.received[2], 30000, 'third delivery');
    expect(String(third.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(rot.body.secret).verify(third.body, third.headers as Record<string, string>)).toThrow();
    expect(new Webhook(rot2.body.secret).verify(third.body, third.headers as Record<string, string>)).toBeTruthy();
  });

  it('retries failures and timeouts with the same webhook-id, honours Retry-After, logs every attempt', async () => {
    const s = await subscribe();
    const script: ('hang' | number)[] = [500, 'hang', 429, 200];
    sub.behaviour = (_r, i) => {
      const step = script[i] ?? 200;
      if (step === 'hang') return 'hang';
      return step === 429 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: step, body: `answer ${i}` };
    };
    await shortfall();
    const [d] = await waitFor(async () => {
      const ds = await deliveriesOf(s.id);
      return ds[0]?.status === 'delivered' ? ds : undefined;
    }, 30000, 'delivered after retries');
    expect(sub.received).toHaveLength(4);
    expect(new Set(sub.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    // Retry-After: 1 s, although the configured backoff is 40-200 ms.
    expect(sub.received[3].at - sub.received[2].at).toBeGreaterThanOrEqual(950);
    const attempts = await attemptsOf(d.id);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.outcome, a.trigger])).toEqual([
      [1, 500, 'retry', 'automatic'],
      [2, null, 'retry', 'automatic'],
      [3, 429, 'retry', 'automatic'],
      [4, 200, 'delivered', 'automatic'],
    ]);
    expect(attempts[1].error).toMatch(/timed out after 400 ms/);
    expect(attempts[0].responseExcerpt).toBe('answer 0');
    expect(attempts.every((a) => typeof a.latencyMs === 'number')).toBe(true);
  });

  it('dead-letters after the last attempt, raises INTEGRATION.DELIVERY_FAILED, and replays with the same webhook-id', async () => {
    const s = await subscribe();
    sub.behaviour = () => ({ status: 500, body: 'down' });
    await shortfall();
    await shortfall();
    const dead = await waitFor(async () => {
      const ds = await deliveriesOf(s.id);
      return ds.length === 2 && ds.every((d) => d.status === 'dead') ? ds : undefined;
    }, 30000, 'two dead deliveries');
    expect(dead[0].attempts).toBe(4);
    const cases = await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT id, exception_count FROM cases WHERE correlation_key = $1`, [`delivery-failed:${s.id}`]);
      return rows[0]?.exception_count === 2 ? rows : undefined;
    }, 30000, 'DELIVERY_FAILED case');
    expect(cases).toHaveLength(1);
    const { rows: exc } = await world.db.query(`SELECT code, payload FROM exceptions WHERE case_id = $1`, [cases[0].id]);
    expect(exc.map((e) => e.code)).toEqual(['INTEGRATION.DELIVERY_FAILED', 'INTEGRATION.DELIVERY_FAILED']);
    expect(exc.map((e) => e.payload.attributes.deliveryId).sort()).toEqual(dead.map((d) => d.id).sort());

    sub.received.length = 0;
    sub.behaviour = () => ({ status: 204 });
    const one = await api(hub.url, 'POST', `/v1/deliveries/${dead[0].id}/replay`);
    expect(one.status).toBe(201);
    await waitFor(async () => (await deliveriesOf(s.id)).find((d) => d.id === dead[0].id && d.status === 'delivered'), 30000, 'replayed delivery');
    expect(sub.received.map((r) => r.headers['webhook-id'])).toEqual([dead[0].id]);
    expect((await attemptsOf(dead[0].id)).at(-1)).toMatchObject({ attempt: 5, trigger: 'manual', outcome: 'delivered', statusCode: 204 });
    expect((await api(hub.url, 'POST', `/v1/deliveries/${dead[0].id}/replay`)).status).toBe(404);

    const bulk = await api(hub.url, 'POST', `/v1/subscriptions/${s.id}/replay`, { body: { since: new Date(Date.now() - 3600_000).toISOString() } });
    expect(bulk.body).toEqual({ replayed: 1, deliveryIds: [dead[1].id] });
    await waitFor(async () => (await deliveriesOf(s.id)).every((d) => d.status === 'delivered'), 30000, 'bulk replay');
    expect(sub.received.map((r) => r.headers['webhook-id']).sort()).toEqual(dead.map((d) => d.id).sort());
  });

  it('410 Gone disables the subscription and tells its owner', async () => {
    const s = await subscribe();
    sub.behaviour = () => ({ status: 410 });
    await shortfall();
    const got = await waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/subscriptions/${s.id}`);
      return r.body.active === false ? r.body : undefined;
    }, 30000, 'disabled subscription');
    expect(got.disabledReason).toMatch(/410 Gone/);
    expect(sub.received).toHaveLength(1);
    const { rows } = await world.db.query(`SELECT title FROM exceptions WHERE code = 'INTEGRATION.DELIVERY_FAILED' AND payload->'attributes'->>'subscriptionId' = $1`, [s.id]);
    expect(rows[0].title).toMatch(/disabled/);
    // Nothing more is sent while it is disabled.
    await shortfall();
    await sleep(500);
    expect(sub.received).toHaveLength(1);
  });

  it('keeps per-case order: a later event of a case waits until the earlier one is delivered', async () => {
    const s = await subscribe({ eventTypes: ['case.opened', 'case.updated'] });
    sub.behaviour = (r, i) => (i < 3 ? { status: 503 } : { status: 200 });
    const order = `SO-ORD-${++n}`;
    await postWebhook(hub.url, world, pickShortfall(order, 'SKU-A'));
    await waitFor(async () => sub.received.length >= 1, 30000, 'first attempt');
    await postWebhook(hub.url, world, pickShortfall(order, 'SKU-B'));
    await postWebhook(hub.url, world, pickShortfall(order, 'SKU-C'));
    // The two later events may land in one pipeline batch (one case.updated) or two.
    await waitFor(async () => {
      const ds = await deliveriesOf(s.id);
      const added = sub.received.filter((r) => r.json.type === 'case.updated').reduce((t, r) => t + r.json.data.addedExceptions.length, 0);
      return ds.length >= 2 && ds.every((d) => d.status === 'delivered') && added === 2;
    }, 30000, 'every delivery delivered');
    const types = sub.received.map((r) => r.json.type);
    const firstUpdate = types.indexOf('case.updated');
    expect(types.slice(0, firstUpdate)).toEqual(['case.opened', 'case.opened', 'case.opened', 'case.opened']);
    expect(types.slice(firstUpdate).every((t) => t === 'case.updated')).toBe(true);
  });

  it('refuses private and link-local endpoints when saved and again when sending', async () => {
    for (const url of ['http://10.1.2.3/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9/x', 'http://[::ffff:192.168.1.1]/x', 'http://0.0.0.0/']) {
      const r = await api(hub.url, 'POST', '/v1/subscriptions', { body: { name: 'x', url, eventTypes: ['case.opened'] } });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/private, loopback, link-local or reserved/);
    }
    const ftp = await api(hub.url, 'POST', '/v1/subscriptions', { body: { name: 'x', url: 'ftp://example.com/', eventTypes: ['case.opened'] } });
    expect(ftp.body.message).toMatch(/https/);
    const nx = await api(hub.url, 'POST', '/v1/subscriptions', { body: { name: 'x', url: 'http://no-such-host.invalid/', eventTypes: ['case.opened'] } });
    expect(nx.body.message).toMatch(/does not resolve/);

    // Saved while allowed, then pointed (as a rebinding DNS answer would) at a private address.
    const s = await subscribe();
    await world.db.query(`UPDATE subscriptions SET url = 'http://10.9.9.9/hook' WHERE id = $1`, [s.id]);
    await shortfall();
    const [d] = await waitFor(async () => {
      const ds = await deliveriesOf(s.id);
      return ds[0]?.attempts >= 1 ? ds : undefined;
    }, 30000, 'refused attempt');
    const [a] = await attemptsOf(d.id);
    expect(a).toMatchObject({ statusCode: null, outcome: 'refused' });
    expect(a.error).toMatch(/address refused: host 10\.9\.9\.9/);
  });

  it('relays each event to each subscription once, even when the relay takes the same events again', async () => {
    const a = await subscribe();
    const b = await subscribe({ filters: { sites: ['RNO1'] } });
    const c = await subscribe({ filters: { sites: ['ELSEWHERE'] } });
    const [before] = (await world.db.query(`SELECT coalesce(max(id), 0) AS id FROM outbox_events`)).rows;
    await shortfall();
    await shortfall();
    await waitFor(async () => sub.received.length === 4, 30000, 'four deliveries');
    await world.db.query(`UPDATE outbox_events SET published_at = NULL WHERE id > $1`, [before.id]);
    await sleep(500);
    const { rows } = await world.db.query(`SELECT subscription_id, count(*)::int AS n FROM deliveries WHERE subscription_id = ANY($1) GROUP BY 1`, [[a.id, b.id, c.id]]);
    expect(Object.fromEntries(rows.map((r) => [r.subscription_id, r.n]))).toEqual({ [a.id]: 2, [b.id]: 2 });
    expect(sub.received).toHaveLength(4);
  });

  it('SSE stream: catch-up then live tail; Last-Event-ID resumes without loss or repeats', async () => {
    const feed = (await api(hub.url, 'GET', '/v1/events?limit=1000')).body;
    const ctl = new AbortController();
    const res = await fetch(`${hub.url}/v1/events/stream?types=case.opened`, { headers: { authorization: `Bearer ${world.env.HUB_ADMIN_KEY}` }, signal: ctl.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pred: (t: string) => boolean) => {
      const until = Date.now() + 30000;
      while (!pred(text) && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
      return pred(text);
    };
    const opened = feed.items.filter((e: any) => e.type === 'case.opened').length;
    expect(await readUntil((t) => (t.match(/^event: case.opened$/gm) ?? []).length >= opened)).toBe(true);
    await shortfall();
    expect(await readUntil((t) => (t.match(/^event: case.opened$/gm) ?? []).length >= opened + 1)).toBe(true);
    expect(await readUntil((t) => t.includes(': keep-alive'))).toBe(true);
    ctl.abort();
    const ids = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    const last = ids[ids.length - 1];

    await shortfall();
    await shortfall();
    // What the feed holds after `last` (the two new cases, plus any case the hub raised meanwhile) is what a resume must replay.
    const after = await waitFor(async () => {
      const items = (await api(hub.url, 'GET', `/v1/events?after=${last}&types=case.opened`)).body.items.map((e: any) => `${e.tx}-${e.id}`);
      return items.length >= 2 ? items : undefined;
    }, 30000, 'two new case.opened events in the feed');
    const ctl2 = new AbortController();
    const res2 = await fetch(`${hub.url}/v1/events/stream?types=case.opened`, {
      headers: { authorization: `Bearer ${world.env.HUB_ADMIN_KEY}`, 'last-event-id': last },
      signal: ctl2.signal,
    });
    const r2 = res2.body!.getReader();
    let t2 = '';
    const until = Date.now() + 30000;
    while ((t2.match(/^id: /gm) ?? []).length < after.length && Date.now() < until) t2 += new TextDecoder().decode((await r2.read()).value ?? new Uint8Array());
    ctl2.abort();
    const ids2 = [...t2.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    expect(ids2.some((id) => ids.includes(id))).toBe(false);
    expect(ids2.slice(0, after.length)).toEqual(after);
    // Left open on purpose: shutting the hub down (afterAll) must end it, not wait for it.
    lingering = await fetch(`${hub.url}/v1/events/stream`, { headers: { authorization: `Bearer ${world.env.HUB_ADMIN_KEY}` } });
  });

  it('audit hash chain: verify passes, then finds a row changed behind the trigger; export is formula-safe', async () => {
    await shortfall();
    await waitFor(async () => {
      const v = (await api(hub.url, 'GET', '/v1/audit/verify')).body;
      return v.ok && v.unsealed === 0 && v.checked > 5 ? v : undefined;
    }, 30000, 'sealed chain');
    // The trigger still refuses a plain change, including to a sealed hash.
    await expect(world.db.query(`UPDATE audit_events SET action = 'x' WHERE id = (SELECT min(id) FROM audit_events)`)).rejects.toThrow(/append-only/);
    await expect(world.db.query(`UPDATE audit_seals SET hash = '\\x00' WHERE id = (SELECT min(id) FROM audit_seals)`)).rejects.toThrow(/append-only/);
    await expect(world.db.query(`DELETE FROM audit_seals`)).rejects.toThrow(/append-only/);

    // Changes made behind the trigger's back (say, by a superuser who disabled it).
    const behind = async (sql: string, params: unknown[] = []) => {
      const c = await world.db.connect();
      try {
        await c.query('BEGIN');
        await c.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
        const r = await c.query(sql, params);
        await c.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
        await c.query('COMMIT');
        return r.rows;
      } finally {
        c.release();
      }
    };
    const verify = async () => (await api(hub.url, 'GET', '/v1/audit/verify')).body;
    const { rows: all } = await world.db.query(`SELECT * FROM audit_events ORDER BY tx, id`);
    const victim = all.length >> 1; // a row in the middle of the sealed chain, with rows on both sides
    expect(all.length).toBeGreaterThan(5);

    // Changed: named, with the reason; put back, the chain holds again.
    await world.db.query(`CREATE TABLE audit_orig AS SELECT * FROM audit_events WHERE id = $1`, [all[victim].id]);
    await behind(`UPDATE audit_events SET after = '{"team":"nobody"}' WHERE id = $1`, [all[victim].id]);
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ id: all[victim].id, reason: expect.stringMatching(/content does not match/) });
    await behind(`UPDATE audit_events a SET after = o.after FROM audit_orig o WHERE a.id = o.id`);
    expect(await verify()).toMatchObject({ ok: true, firstBroken: null });

    // Removed from the middle of a seal: the row after the gap is named; put back exactly as it was, the chain holds again.
    const seals = (await world.db.query(`SELECT id, last_tx, last_id, row_count FROM audit_seals ORDER BY id`)).rows;
    const key = (r: { tx: string; id: string }) => [BigInt(r.tx), BigInt(r.id)] as const;
    const upTo = (r: { tx: string; id: string }, tx: string, id: string) => key(r)[0] < BigInt(tx) || (key(r)[0] === BigInt(tx) && key(r)[1] <= BigInt(id));
    const si = seals.findIndex((x) => x.row_count >= 3);
    expect(si).toBeGreaterThanOrEqual(0);
    const inSeal = all.filter((r) => upTo(r, seals[si].last_tx, seals[si].last_id) && (si === 0 || !upTo(r, seals[si - 1].last_tx, seals[si - 1].last_id)));
    await world.db.query(`CREATE TABLE audit_kept AS SELECT * FROM audit_events WHERE id = $1`, [inSeal[1].id]); // exact copy (µs times)
    await behind(`DELETE FROM audit_events WHERE id = $1`, [inSeal[1].id]);
    expect((await verify()).firstBroken).toMatchObject({ id: inSeal[2].id, reason: expect.stringMatching(/missing \(removed\)/) });
    await world.db.query(`INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM audit_kept`);
    expect(await verify()).toMatchObject({ ok: true, firstBroken: null });

    // Inserted: a forged row dated into a sealed range (same transaction id as an early row).
    await world.db.query(
      `INSERT INTO audit_events (actor_type, actor_id, entity_type, entity_id, action, after, tx) VALUES ('api-key', 'mallory', 'case', 'c0', 'case.resolved', '{}', $1)`,
      [all[1].tx],
    );
    expect(await verify()).toMatchObject({ ok: false, firstBroken: { reason: expect.stringMatching(/not in the sealed chain/) } });

    await world.db.query(`INSERT INTO audit_events (actor_type, actor_id, entity_type, entity_id, action, after) VALUES ('api-key', '=HYPERLINK("http://evil")', 'case', 'c1', 'case.commented', '{"note":"+1"}')`);
    const csv = await fetch(`${hub.url}/v1/audit/export?format=csv&entityId=c1`, { headers: { authorization: `Bearer ${world.env.HUB_ADMIN_KEY}` } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,occurredAt,actorType,actorId,entityType,entityId,action,before,after');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    const jl = await fetch(`${hub.url}/v1/audit/export?format=jsonl&actorId=${encodeURIComponent('=HYPERLINK("http://evil")')}`, { headers: { authorization: `Bearer ${world.env.HUB_ADMIN_KEY}` } });
    const objs = (await jl.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(objs).toHaveLength(1);
    expect(objs[0]).toMatchObject({ entityId: 'c1', after: { note: '+1' } });
  });
});
