import { readFileSync } from 'node:fs';
import { api, newWorld, pickShortfall, postWebhook, spawnHub, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { downgradeShortfalls, wmsMappingBody, baselineDirs } from '../support/mapping-versions.js';
import type { RunningHub } from '../../src/hub.js';

/**
 * An activation made through one process reaches a worker in another process without a restart:
 * the api runs in this process, the pipeline in a spawned built hub (role worker) that started
 * before the version was even published.
 */
describe('activations across hub processes', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  let worker: ReturnType<typeof spawnHub>;

  // Generous waits: the spawned worker boots on a CPU shared with other work; speed is not what is tested.
  beforeAll(async () => {
    world = newWorld(baselineDirs());
    hub = await startInProcess(world, { HUB_ROLES: 'api,scheduler' });
    worker = spawnHub(world, { HUB_ROLES: 'worker' });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await hub?.close();
    await world?.drop();
  });

  const processedBy = (id: string) =>
    waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/messages/${id}`);
      return ['routed', 'mapped', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 90000, `message ${id} processed by the worker process`);

  it('the worker process maps with the version activated through the api process, and with the one rolled back to', async () => {
    const first = await postWebhook(hub.url, world, pickShortfall('SO-X-1'));
    expect((await processedBy(first.body.messageId)).exceptions[0]).toMatchObject({ mappingVersion: '1.0.0', severity: 'critical' });

    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: await wmsMappingBody('1.1.0', downgradeShortfalls) })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version: '1.1.0', connectorId: 'test-wms' } })).status).toBe(200);
    const second = await postWebhook(hub.url, world, pickShortfall('SO-X-2'));
    expect((await processedBy(second.body.messageId)).exceptions[0]).toMatchObject({ mappingVersion: '1.1.0', severity: 'standard' });

    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations/rollback', { body: { connectorId: 'test-wms' } })).status).toBe(200);
    const third = await postWebhook(hub.url, world, pickShortfall('SO-X-3'));
    expect((await processedBy(third.body.messageId)).exceptions[0]).toMatchObject({ mappingVersion: '1.0.0', severity: 'critical' });
    expect(worker.exitCode).toBeNull();
  }, 240_000);

  it('the worker process routes with the policy activated through the api process', async () => {
    const policy = JSON.parse(readFileSync('policies/default/1.0.0/policy.json', 'utf8'));
    const next = { ...policy, version: '1.1.0', rules: policy.rules.map((r: any) => (r.id === 'priority-fulfilment-risk' ? { ...r, then: { team: 'customer-service', severity: 'critical' } } : r)) };
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: next })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '1.1.0' } })).status).toBe(200);
    const res = await postWebhook(hub.url, world, pickShortfall('SO-X-4'));
    await processedBy(res.body.messageId);
    const c = (await api(hub.url, 'GET', '/v1/cases?correlationKey=order:SO-X-4')).body.items[0];
    expect(c).toMatchObject({ ownerTeam: 'customer-service', routing: { policy: { id: 'default', version: '1.1.0' } } });
  }, 120_000);
});
