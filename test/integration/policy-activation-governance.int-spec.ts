import { readFileSync } from 'node:fs';
import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

/**
 * Federated governance on the API path: an overlay is published against the enterprise version in force,
 * and an activation or rollback whose resulting combination (enterprise + overlays in force) would not
 * build is refused with 422 before anything changes. Shipped policies: default@2.3.0, site-dal2@1.0.0
 * (re-routes rules.warehouse.then.team, sets noise.repeatWindowSeconds), bu-returns@1.0.0 (noise.stormPerMinute).
 */
describe('policy activations keep the policies in force buildable', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const enterprise = JSON.parse(readFileSync('policies/default/2.3.0/policy.json', 'utf8'));
  const dal2 = JSON.parse(readFileSync('policies/site-dal2/1.0.0/policy.json', 'utf8'));
  /** default@2.3.0 with another `overridable` list. */
  const enterpriseVersion = (version: string, overridable: (list: string[]) => string[]) => ({ ...enterprise, version, overridable: overridable(enterprise.overridable) });

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const changes = async (id: string) =>
    (await api(hub.url, 'GET', `/v1/audit?entityType=policy&entityId=${id}`)).body.items
      .filter((a: any) => a.action !== 'policy.published')
      .map((a: any) => `${a.action} ${a.before?.version}→${a.after?.version}`);
  const inForce = async (id: string) => (await api(hub.url, 'GET', `/v1/policies/${id}/activations`)).body.items[0]?.version;
  /** Routes a routine DAL2 pick shortfall (rule `warehouse`, which site-dal2 re-routes) and returns its case's routing. */
  const routeDal2 = async (order: string) => {
    const r = await postWebhook(hub.url, world, pickShortfall(order, 'SKU-D', { warehouse: { site: 'DAL2', businessUnit: 'south' }, order: { number: order, customer: 'C-9', customerTier: 'standard', currency: 'USD' } }));
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${r.body.messageId}`)).body.status === 'routed', 15000, `${order} routed`);
    const c = (await api(hub.url, 'GET', `/v1/cases?correlationKey=order:${order}`)).body.items[0];
    return { team: c.ownerTeam, ruleId: c.routing.ruleId, policy: c.routing.policy };
  };

  it('checks a published overlay against the enterprise version activated, not the newest folder version', async () => {
    // 2.4.0 narrows `noise` to the two settings the shipped overlays change: compatible, activated (200, audited).
    const narrowNoise = enterpriseVersion('2.4.0', (l) => [...l.filter((p) => p !== 'noise'), 'noise.stormPerMinute', 'noise.repeatWindowSeconds']);
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: narrowNoise })).status).toBe(201);
    const act = await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '2.4.0' } });
    expect(act.status).toBe(200);
    expect(act.body).toMatchObject({ from: '2.3.0', to: '2.4.0', changed: true });

    // Allowed by the folder's 2.3.0 (`noise`), not by 2.4.0 in force.
    const overlay = { ...dal2, version: '1.1.0', set: { ...dal2.set, 'noise.reopenWindowMinutes': 60 } };
    const refused = await api(hub.url, 'POST', '/v1/policies/site-dal2/versions', { body: overlay });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe('overlay site-dal2@1.1.0 may not change noise.reopenWindowMinutes: default@2.4.0 does not list it in "overridable"');
    expect((await api(hub.url, 'GET', '/v1/policies/site-dal2/versions')).body.items.map((v: any) => v.version)).toEqual(['1.0.0']);
    expect(await routeDal2('SO-GOV-1')).toEqual({ team: 'dal2-warehouse', ruleId: 'warehouse', policy: { id: 'default', version: '2.4.0', overlay: 'site-dal2@1.0.0' } });
  });

  it('refuses to activate an enterprise version that locks a field an overlay in force changes, naming the overlay; nothing changes', async () => {
    const locked = enterpriseVersion('2.5.0', (l) => [...l.filter((p) => p !== 'rules.warehouse.then.team' && p !== 'noise'), 'noise.stormPerMinute', 'noise.repeatWindowSeconds']);
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: locked })).status).toBe(201);
    const r = await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '2.5.0' } });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'cannot activate policy default@2.5.0; the policies in force would not build: overlay site-dal2@1.0.0 may not change rules.warehouse.then.team: default@2.5.0 does not list it in "overridable"',
    );
    expect(await inForce('default')).toBe('2.4.0');
    expect(await changes('default')).toEqual(['policy.activated 2.3.0→2.4.0']);
    expect(await routeDal2('SO-GOV-2')).toEqual({ team: 'dal2-warehouse', ruleId: 'warehouse', policy: { id: 'default', version: '2.4.0', overlay: 'site-dal2@1.0.0' } });
  });

  it('refuses a rollback that would bring back an overlay version the enterprise version in force does not allow; compatible rollbacks still pass', async () => {
    // site-dal2 1.2.0 leaves the repeat window alone, so default 2.6.0 may lock it.
    const { 'noise.repeatWindowSeconds': _, ...set } = dal2.set;
    expect((await api(hub.url, 'POST', '/v1/policies/site-dal2/versions', { body: { ...dal2, version: '1.2.0', set } })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/policies/site-dal2/activations', { body: { version: '1.2.0' } })).status).toBe(200);
    const lockRepeat = enterpriseVersion('2.6.0', (l) => [...l.filter((p) => p !== 'noise'), 'noise.stormPerMinute']);
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: lockRepeat })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '2.6.0' } })).status).toBe(200);

    const refused = await api(hub.url, 'POST', '/v1/policies/site-dal2/activations/rollback');
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe(
      'cannot roll back to policy site-dal2@1.0.0; the policies in force would not build: overlay site-dal2@1.0.0 may not change noise.repeatWindowSeconds: default@2.6.0 does not list it in "overridable"',
    );
    expect(await inForce('site-dal2')).toBe('1.2.0');
    expect(await changes('site-dal2')).toEqual(['policy.activated 1.0.0→1.2.0']);
    expect(await routeDal2('SO-GOV-3')).toEqual({ team: 'dal2-warehouse', ruleId: 'warehouse', policy: { id: 'default', version: '2.6.0', overlay: 'site-dal2@1.2.0' } });

    // Enterprise back to 2.4.0 first, then the overlay rollback fits: both 200 and audited.
    expect((await api(hub.url, 'POST', '/v1/policies/default/activations/rollback')).body).toMatchObject({ from: '2.6.0', to: '2.4.0' });
    const back = await api(hub.url, 'POST', '/v1/policies/site-dal2/activations/rollback');
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ from: '1.2.0', to: '1.0.0' });
    expect(await changes('default')).toEqual(['policy.activated 2.3.0→2.4.0', 'policy.activated 2.4.0→2.6.0', 'policy.rolled-back 2.6.0→2.4.0']);
    expect(await changes('site-dal2')).toEqual(['policy.activated 1.0.0→1.2.0', 'policy.rolled-back 1.2.0→1.0.0']);
    expect(await routeDal2('SO-GOV-4')).toEqual({ team: 'dal2-warehouse', ruleId: 'warehouse', policy: { id: 'default', version: '2.4.0', overlay: 'site-dal2@1.0.0' } });
  });
});
