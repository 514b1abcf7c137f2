import type { RunningHub } from '../../src/hub.js';
import { ADMIN_KEY, api, newWorld, startInProcess, type TestWorld } from '../support/hub-harness.js';
import { fixture } from '../support/x12-fixtures.js';
import { TABLES } from '../support/mapping-versions.js';

const EDI = {
  id: 'edi',
  type: 'x12',
  name: 'EDI gateway',
  config: { system: 'edi-gateway', mapping: 'x12-documents', us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [{ id: 'reno-3pl', name: 'Reno 3PL', isa: { qualifier: 'ZZ', id: 'RENOWMS' }, ack: '997' }] },
};

/**
 * Replaying stored X12 interchanges (duplicate claims, control-number counters, related documents)
 * through the version that produced them changes nothing and reports nothing.
 */
describe('regression diff and reprocess on stored X12 messages', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: EDI })).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const post = async (file: string, query = 'wait=10') => {
    const res = await fetch(`${hub.url}/v1/connectors/edi/messages?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/edi-x12' },
      body: fixture(file),
    });
    return (await res.json()) as any;
  };
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const t of TABLES) out[t] = Number((await world.db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);
    return out;
  };

  it('the same version shows no difference; reprocess with it creates nothing', async () => {
    await post('generated/940-order.edi', 'wait=10&direction=outbound');
    const short = await post('generated/945-short.edi');
    const damaged = await post('generated/947-damaged.edi');
    expect((await api(hub.url, 'GET', `/v1/messages/${short.messageId}`)).body.exceptions.length).toBeGreaterThan(0);
    const before = await counts();
    const diff = await api(hub.url, 'POST', '/v1/mappings/x12-documents/versions/1.0.0/diff?since=1d');
    expect(diff.body).toMatchObject({ complete: true, examinedMessages: 3, unchangedMessages: 3, summary: { appear: 0, disappear: 0, change: 0 } });
    expect(await counts()).toEqual(before);
    for (const id of [short.messageId, damaged.messageId]) {
      expect((await api(hub.url, 'POST', `/v1/messages/${id}/reprocess`)).body).toMatchObject({ changed: false });
    }
    expect(await counts()).toEqual({ ...before, audit_events: before.audit_events + 2 });
  });
});
