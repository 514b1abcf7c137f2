import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

describe('connector instances through the API', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const secret = 'whsec_' + Buffer.from('dallas warehouse signing secret').toString('base64');

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('validates a declaration against the connector type and names the problem', async () => {
    const unknownType = await api(hub.url, 'POST', '/v1/connectors', { body: { id: 'dal-wms', type: 'telepathy', name: 'x' } });
    expect(unknownType).toMatchObject({ status: 400, body: { message: expect.stringMatching(/unknown connector type "telepathy"; known: wms-webhook/) } });
    const noSecret = await api(hub.url, 'POST', '/v1/connectors', { body: { id: 'dal-wms', type: 'wms-webhook', name: 'Dallas', config: { system: 'dal-wms', mapping: 'wms-webhook' } } });
    expect(noSecret).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^secrets\.signingSecret: /) } });
    const badId = await api(hub.url, 'POST', '/v1/connectors', { body: { id: 'Dallas WMS', type: 'wms-webhook', name: 'Dallas' } });
    expect(badId).toMatchObject({ status: 400, body: { problems: [{ path: 'id' }] } });
    const extra = await api(hub.url, 'POST', '/v1/connectors', { body: { id: 'dal-wms', type: 'wms-webhook', name: 'Dallas', config: { system: 'dal', mapping: 'wms-webhook', colour: 'blue' }, secrets: { signingSecret: secret } } });
    expect(extra).toMatchObject({ status: 400, body: { message: expect.stringMatching(/config/) } });
  });

  it('creates an instance whose secrets are sealed at rest and never returned, and which accepts webhooks at once', async () => {
    const created = await api(hub.url, 'POST', '/v1/connectors', {
      body: { id: 'dal-wms', type: 'wms-webhook', name: 'Dallas DC', config: { system: 'dal-wms', mapping: 'wms-webhook' }, secrets: { signingSecret: secret } },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(secret);
    const listed = await api(hub.url, 'GET', '/v1/connectors');
    expect(listed.body.items.map((c: any) => c.id)).toEqual(['dal-wms', 'test-wms']);
    expect(JSON.stringify(listed.body)).not.toMatch(/whsec_/);
    const { rows } = await world.db.query(`SELECT sealed_secrets, origin FROM connector_instances WHERE id = 'dal-wms'`);
    expect(rows[0].origin).toBe('api');
    expect(rows[0].sealed_secrets).not.toContain(secret.slice(6, 20));

    const res = await postWebhook(hub.url, world, pickShortfall('SO-DAL-1'), { secret }, 'dal-wms');
    expect(res.status).toBe(202);
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}`)).body.status === 'routed');
    const status = (await api(hub.url, 'GET', '/v1/connectors/dal-wms/status')).body;
    expect(status).toMatchObject({ id: 'dal-wms', type: 'wms-webhook', health: 'ok', last24h: { routed: 1 }, lastError: null });
    expect(status.lastMessageAt).toBeTruthy();

    const audit = (await api(hub.url, 'GET', '/v1/audit?entityType=connector&entityId=dal-wms')).body.items;
    expect(audit.map((a: any) => a.action)).toEqual(['connector.created']);
    expect(JSON.stringify(audit)).not.toMatch(/whsec_/);
  });

  it('refuses deliveries to a disabled connector', async () => {
    await api(hub.url, 'POST', '/v1/connectors', {
      body: { id: 'dal-wms', type: 'wms-webhook', name: 'Dallas DC', enabled: false, config: { system: 'dal-wms', mapping: 'wms-webhook' }, secrets: { signingSecret: secret } },
    });
    // Instances are cached for up to 5 s per process.
    await waitFor(async () => (await postWebhook(hub.url, world, pickShortfall('SO-DAL-2'), { secret }, 'dal-wms')).status === 403, 8000, '403 for disabled connector');
    expect((await api(hub.url, 'GET', '/v1/connectors/dal-wms/status')).body.health).toBe('disabled');
  });
});
