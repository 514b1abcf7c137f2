import { api, newWorld, startInProcess, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

type Role = 'viewer' | 'operator' | 'integrator' | 'admin';
const ZERO = '00000000-0000-7000-8000-000000000000';

/** Every /v1 endpoint, with the roles allowed to call it (admin may call everything). */
const ENDPOINTS: { method: string; path: string; allowed: Role[]; body?: unknown }[] = [
  { method: 'GET', path: '/v1/schema/exception', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/schema/taxonomy', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/schema/root-causes', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/cases', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/cases/${ZERO}`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: `/v1/cases/${ZERO}/acknowledge`, allowed: ['operator'] },
  { method: 'POST', path: `/v1/cases/${ZERO}/assign`, allowed: ['operator'], body: { assignee: 'x' } },
  { method: 'POST', path: `/v1/cases/${ZERO}/comment`, allowed: ['operator'], body: { text: 'x' } },
  { method: 'POST', path: `/v1/cases/${ZERO}/resolve`, allowed: ['operator'], body: { rootCause: 'OTHER' } },
  { method: 'GET', path: `/v1/cases/${ZERO}/slas`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/cases/${ZERO}/tasks`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/cases/${ZERO}/actions`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: `/v1/cases/${ZERO}/pause`, allowed: ['operator'], body: { waitingOn: 'customer' } },
  { method: 'POST', path: `/v1/cases/${ZERO}/resume`, allowed: ['operator'], body: {} },
  { method: 'POST', path: `/v1/cases/${ZERO}/tasks/${ZERO}/complete`, allowed: ['operator'], body: {} },
  { method: 'GET', path: '/v1/messages', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/messages/${ZERO}`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/messages/${ZERO}/raw`, allowed: ['integrator'] },
  { method: 'GET', path: `/v1/messages/${ZERO}/acks`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/connectors/test-wms/messages', allowed: ['integrator'], body: { any: 'thing' } },
  { method: 'GET', path: '/v1/documents', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/events', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/documents/${ZERO}`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: `/v1/messages/${ZERO}/replay`, allowed: ['integrator'] },
  { method: 'GET', path: '/v1/connector-types', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/connectors', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/connectors/test-wms', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/connectors/test-wms/status', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/connectors', allowed: ['integrator'], body: { id: 'x' } },
  { method: 'GET', path: '/v1/audit', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: `/v1/messages/${ZERO}/reprocess`, allowed: ['integrator'] },
  { method: 'GET', path: '/v1/mappings/wms-webhook/versions', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/mappings/wms-webhook/versions/1.0.0', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/mappings/wms-webhook/versions', allowed: ['integrator'], body: { manifest: {} } },
  { method: 'GET', path: '/v1/mappings/wms-webhook/activations', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/mappings/wms-webhook/activations', allowed: ['integrator'], body: { version: '9.9.9' } },
  { method: 'POST', path: '/v1/mappings/wms-webhook/activations/rollback', allowed: ['integrator'], body: { connectorId: 'nobody' } },
  { method: 'POST', path: '/v1/mappings/wms-webhook/versions/1.0.0/test', allowed: ['integrator'], body: { payload: { type: 'ping' } } },
  { method: 'POST', path: '/v1/mappings/wms-webhook/versions/1.0.0/diff?since=1d', allowed: ['integrator'] },
  { method: 'GET', path: '/v1/policies/default/versions', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: '/v1/policies/default/versions/1.0.0', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/policies/default/versions', allowed: ['integrator'], body: { id: 'default' } },
  { method: 'GET', path: '/v1/policies/default/activations', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: '/v1/policies/default/activations', allowed: ['integrator'], body: { version: '9.9.9' } },
  { method: 'POST', path: '/v1/policies/default/activations/rollback', allowed: ['integrator'] },
  { method: 'GET', path: '/v1/audit/verify', allowed: ['integrator'] },
  { method: 'GET', path: '/v1/audit/export?format=jsonl&entityId=none', allowed: ['integrator'] },
  { method: 'GET', path: '/v1/subscriptions', allowed: ['integrator'] },
  { method: 'POST', path: '/v1/subscriptions', allowed: ['integrator'], body: { name: 'x' } },
  { method: 'GET', path: `/v1/subscriptions/${ZERO}`, allowed: ['integrator'] },
  { method: 'PATCH', path: `/v1/subscriptions/${ZERO}`, allowed: ['integrator'], body: { active: false } },
  { method: 'DELETE', path: `/v1/subscriptions/${ZERO}`, allowed: ['integrator'] },
  { method: 'POST', path: `/v1/subscriptions/${ZERO}/rotate-secret`, allowed: ['integrator'], body: {} },
  { method: 'POST', path: `/v1/subscriptions/${ZERO}/replay`, allowed: ['integrator'], body: { since: '2026-01-01T00:00:00Z' } },
  { method: 'GET', path: '/v1/deliveries', allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'GET', path: `/v1/deliveries/${ZERO}/attempts`, allowed: ['viewer', 'operator', 'integrator'] },
  { method: 'POST', path: `/v1/deliveries/${ZERO}/replay`, allowed: ['integrator'] },
  { method: 'GET', path: '/v1/api-keys', allowed: [] },
  { method: 'POST', path: '/v1/api-keys', allowed: [], body: { name: 'n' } },
  { method: 'DELETE', path: `/v1/api-keys/${ZERO}`, allowed: [] },
];

describe('auth matrix: every /v1 endpoint × every role', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const keys = {} as Record<Role, string>;

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
    for (const role of ['viewer', 'operator', 'integrator', 'admin'] as Role[]) {
      const r = await api(hub.url, 'POST', '/v1/api-keys', { body: { name: `${role}-key`, role } });
      expect(r.status).toBe(201);
      expect(r.body.key).toMatch(/^ehk_/);
      keys[role] = r.body.key;
    }
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it.each(ENDPOINTS)('$method $path', async ({ method, path, allowed, body }) => {
    expect((await api(hub.url, method, path, { key: null, body })).status).toBe(401);
    expect((await api(hub.url, method, path, { key: 'ehk_not_a_real_key', body })).status).toBe(401);
    for (const role of ['viewer', 'operator', 'integrator', 'admin'] as Role[]) {
      const r = await api(hub.url, method, path, { key: keys[role], body });
      if (role === 'admin' || allowed.includes(role)) {
        expect([role, r.status]).not.toEqual([role, 401]);
        expect([role, r.status]).not.toEqual([role, 403]);
      } else {
        expect([role, r.status]).toEqual([role, 403]);
      }
    }
  });

  it('stores only a hash of each key, and a revoked key stops working', async () => {
    const { rows } = await world.db.query(`SELECT key_hash, prefix FROM api_keys`);
    for (const key of Object.values(keys)) expect(rows.some((r: any) => r.key_hash === key)).toBe(false);
    const created = await api(hub.url, 'POST', '/v1/api-keys', { body: { name: 'temp', role: 'viewer' } });
    expect((await api(hub.url, 'GET', '/v1/cases', { key: created.body.key })).status).toBe(200);
    expect((await api(hub.url, 'DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    // Verified keys are cached for up to 5 s per process.
    await new Promise((r) => setTimeout(r, 5100));
    expect((await api(hub.url, 'GET', '/v1/cases', { key: created.body.key })).status).toBe(401);
    const audit = (await api(hub.url, 'GET', `/v1/audit?entityType=api-key&entityId=${created.body.id}`)).body.items.map((a: any) => a.action);
    expect(audit).toEqual(['api-key.created', 'api-key.revoked']);
  });

  it('keeps health, metrics and webhook ingestion outside API-key auth', async () => {
    expect((await api(hub.url, 'GET', '/health/live', { key: null })).status).toBe(200);
    expect((await api(hub.url, 'GET', '/health/ready', { key: null })).status).toBe(200);
    expect((await api(hub.url, 'GET', '/metrics', { key: null })).status).toBe(200);
    // Webhooks authenticate by signature: 401 here comes from the signature check, not the key.
    const r = await api(hub.url, 'POST', '/v1/webhooks/test-wms', { key: null, body: {} });
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(/webhook signature/);
  });
});
