import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { TestSubscriber } from '../support/subscriber.js';

/** Time-based policies, with their periods shortened: rate limit, disable after N days of failure, raw payload retention. */
import { jest } from '@jest/globals';

jest.setTimeout(180_000);

describe('delivery limits and retention', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let sub: TestSubscriber;

  beforeAll(async () => {
    world = newWorld({
      HUB_DELIVERY_ALLOW_HTTP: 'true',
      HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
      HUB_DELIVERY_BACKOFF_MS: '100',
      HUB_DELIVERY_MAX_BACKOFF_MS: '200',
      HUB_DELIVERY_ATTEMPTS: '50',
      HUB_DELIVERY_DISABLE_AFTER_DAYS: '0.00002', // 1.7 s
      HUB_RELAY_INTERVAL_MS: '30',
      HUB_RAW_RETENTION_DAYS: '0.00002',
    });
    hub = await startInProcess(world);
    sub = await new TestSubscriber().start();
  });
  afterAll(async () => {
    await hub?.close();
    await sub?.stop();
    await world?.drop();
  });

  it('holds a subscription to its rate limit', async () => {
    const s = await api(hub.url, 'POST', '/v1/subscriptions', {
      body: { name: 'slow', url: sub.url, eventTypes: ['case.opened'], ratePerSecond: 2, filters: { sites: ['RATE'] } },
    });
    for (let i = 0; i < 6; i++) await postWebhook(hub.url, world, pickShortfall(`SO-RATE-${i}`, 'SKU-1', { warehouse: { site: 'RATE', businessUnit: 'west' } }));
    await waitFor(async () => sub.received.length === 6, 30000, 'six deliveries');
    // Sliding window over the sends: any three consecutive sends start at least a second apart (less
    // the few ms between taking the slot and starting the POST). Arrivals add the network's and the
    // receiving process's jitter (up to 145 ms seen under a full test run), so they are held only to
    // the whole span.
    const { rows } = await world.db.query(
      `SELECT (extract(epoch FROM a.started_at) * 1000)::float8 AS t FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.subscription_id = $1 AND a.outcome = 'delivered' ORDER BY a.started_at`, [s.body.id]);
    const starts = rows.map((r: { t: number }) => r.t);
    expect(starts).toHaveLength(6);
    for (let i = 0; i + 2 < starts.length; i++) expect(starts[i + 2] - starts[i]).toBeGreaterThan(950);
    const at = sub.received.map((r) => r.at).sort((a, b) => a - b);
    expect(at[5] - at[0]).toBeGreaterThan(1700);
    await api(hub.url, 'DELETE', `/v1/subscriptions/${s.body.id}`);
  });

  it('disables an endpoint that keeps failing past HUB_DELIVERY_DISABLE_AFTER_DAYS and tells its owner', async () => {
    sub.received.length = 0;
    sub.behaviour = () => ({ status: 500 });
    const s = await api(hub.url, 'POST', '/v1/subscriptions', { body: { name: 'failing', url: sub.url, eventTypes: ['case.opened'], filters: { sites: ['RNO1'] } } });
    await postWebhook(hub.url, world, pickShortfall('SO-FAIL-1'));
    const got = await waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/subscriptions/${s.body.id}`);
      return r.body.active === false ? r.body : undefined;
    }, 30000, 'disabled');
    expect(got.disabledReason).toMatch(/failing since .* \(over 0.00002 days\)/);
    const { rows } = await world.db.query(`SELECT title FROM exceptions WHERE code = 'INTEGRATION.DELIVERY_FAILED' AND payload->'attributes'->>'subscriptionId' = $1`, [s.body.id]);
    expect(rows.map((r) => r.title)).toEqual([expect.stringMatching(/disabled/)]);
    const [d] = (await api(hub.url, 'GET', `/v1/deliveries?subscriptionId=${s.body.id}`)).body.items;
    expect(d.status).toBe('pending'); // kept: re-enabling the subscription resumes it
    sub.behaviour = () => ({ status: 200 });
    await api(hub.url, 'PATCH', `/v1/subscriptions/${s.body.id}`, { body: { active: true } });
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/deliveries?subscriptionId=${s.body.id}`)).body.items[0].status === 'delivered', 30000, 'resumed');
  });

  it('expires raw payloads of processed messages; the audit trail stays', async () => {
    const r = await postWebhook(hub.url, world, pickShortfall('SO-RET-1'));
    const id = r.body.messageId;
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${id}/raw`)).body.base64 === null, 30000, 'raw payload expired');
    expect((await api(hub.url, 'GET', `/v1/messages/${id}`)).body.status).toBe('routed');
    const { rows } = await world.db.query(`SELECT action FROM audit_events WHERE entity_id = $1 ORDER BY id`, [id]);
    expect(rows.map((x) => x.action)).toContain('message.accepted');
  });
});
