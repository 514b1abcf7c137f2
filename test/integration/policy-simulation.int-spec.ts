import { readFileSync } from 'node:fs';
import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

describe('POST /v1/policies/{id}/versions/{v}/simulate', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const enterprise = JSON.parse(readFileSync('policies/default/2.1.0/policy.json', 'utf8'));
  // Candidate 2.1.0: routine warehouse work goes to the control tower instead of warehouse operations.
  const candidate = { ...enterprise, version: '2.1.0', rules: enterprise.rules.map((r: any) => (r.id === 'warehouse' ? { ...r, then: { team: 'operations-control' } } : r)) };

  beforeAll(async () => {
    // Audit sealing rewrites rows in the background; this test fingerprints every table, so it seals only once an hour.
    world = newWorld({ HUB_AUDIT_SEAL_INTERVAL_MS: '3600000' });
    hub = await startInProcess(world);
    for (const [order, tier] of [['SO-SIM-1', 'priority'], ['SO-SIM-2', 'standard']]) {
      const r = await postWebhook(hub.url, world, pickShortfall(order, 'SKU-S', { order: { number: order, customer: 'C-9', customerTier: tier, currency: 'USD' } }));
      await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${r.body.messageId}`)).body.status === 'routed', 10000, `${order} routed`);
    }
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  /** A fingerprint of every table the hub writes: row counts and a hash of the contents. */
  const snapshot = async () => {
    const tables = (await world.db.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [world.schema])).rows.map((r: any) => r.tablename);
    const out: Record<string, string> = {};
    for (const t of tables) {
      const { rows } = await world.db.query(`SELECT count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`);
      out[t] = `${rows[0].n}:${rows[0].h}`;
    }
    return out;
  };
  /** The hub's background work (outbox relay, audit sealing) finishes after "routed": wait until nothing changes, then compare. */
  const settled = async () => {
    let a = await snapshot();
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const b = await snapshot();
      if (JSON.stringify(a) === JSON.stringify(b)) return b;
      a = b;
    }
    return a;
  };

  it('routes the stored exceptions of the last N days through a candidate from the body, explains each decision, and writes nothing', async () => {
    const before = await settled();
    expect(Number(before.exceptions.split(':')[0])).toBe(2);
    const r = await api(hub.url, 'POST', '/v1/policies/default/versions/2.1.0/simulate', { body: { policy: candidate, days: 1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ policy: { id: 'default', version: '2.1.0', overlays: ['bu-returns@1.0.0', 'site-dal2@1.0.0'] }, count: 2, summary: { changed: 1, opensCase: 2 } });
    const byOrder = Object.fromEntries(r.body.decisions.map((d: any) => [d.correlationKey, d]));
    expect(byOrder['order:SO-SIM-1']).toMatchObject({ changed: false, decision: { ruleId: 'priority-fulfilment-risk', team: 'warehouse-ops' } });
    expect(byOrder['order:SO-SIM-2']).toMatchObject({
      changed: true,
      inForce: { team: 'warehouse-ops', ruleId: 'warehouse', policy: { id: 'default', version: '2.3.0' } },
      decision: { team: 'operations-control', ruleId: 'warehouse', policy: { id: 'default', version: '2.1.0' }, reason: 'rule warehouse matched (category=WAREHOUSE)' },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('routes a sample exception through a version from policies/, including a site overlay', async () => {
    const before = await settled();
    const sample = { code: 'WAREHOUSE.PICK_SHORTFALL', site: 'DAL2', customerTier: 'standard', references: { order: 'SO-X', sku: 'A' }, quantities: { expected: 3, actual: 1, unit: 'EA' } };
    const r = await api(hub.url, 'POST', '/v1/policies/site-dal2/versions/1.0.0/simulate', { body: { exception: sample } });
    expect(r.status).toBe(200);
    expect(r.body.decisions[0]).toMatchObject({ exceptionId: null, decision: { team: 'dal2-warehouse', ruleId: 'warehouse', policy: { overlay: 'site-dal2@1.0.0' } } });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an overlay that changes what the enterprise policy does not mark overridable (422), and bad requests precisely', async () => {
    const overlay = { id: 'site-rno1', version: '1.0.0', extends: 'default', scope: { sites: ['RNO1'] }, set: { 'rules.priority-fulfilment-risk.then.severity': 'info', 'rules.regulated-goods.when.complianceFlags': ['none'] } };
    const refused = await api(hub.url, 'POST', '/v1/policies/site-rno1/versions/1.0.0/simulate', { body: { policy: overlay, days: 1 } });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe('overlay site-rno1@1.0.0 may not change rules.regulated-goods.when.complianceFlags: default@2.3.0 does not list it in "overridable"');

    expect((await api(hub.url, 'POST', '/v1/policies/default/versions/9.9.9/simulate', { body: { days: 1 } })).status).toBe(404);
    const both = await api(hub.url, 'POST', '/v1/policies/default/versions/2.0.0/simulate', { body: { days: 1, exception: { code: 'ORDER.CREDIT_HOLD' } } });
    expect(both.status).toBe(400);
    expect(both.body.message).toBe('(body): give exactly one of exception, exceptions or days');
    const badSample = await api(hub.url, 'POST', '/v1/policies/default/versions/2.0.0/simulate', { body: { exception: { code: 'ORDER.CREDIT_HOLD' } } });
    expect(badSample.status).toBe(400);
    expect(badSample.body.message).toMatch(/^exceptions\.0: references\.order: is required for ORDER\.CREDIT_HOLD/);
    const viewer = await api(hub.url, 'POST', '/v1/policies/default/versions/2.0.0/simulate', { key: null, body: { days: 1 } });
    expect(viewer.status).toBe(401);
  });

  it('simulates a version published only through the API, against stored history at the severity its source reported', async () => {
    // A large inventory variance: the source reports it standard, the in-force rule large-amount-at-risk
    // raises it to critical. A candidate that sends standard warehouse work to the control tower must see
    // the reported severity, not the routed one that the exception's payload carries.
    const variance = JSON.stringify({
      type: 'inventory.variance', occurredAt: new Date().toISOString(), warehouse: { site: 'RNO1', businessUnit: 'west' }, location: 'A-01',
      item: { sku: 'SKU-V', expectedQty: 1000, countedQty: 0, uom: 'EA', unitCost: 20 }, currency: 'USD', countId: 'CC-1',
    });
    const v = await postWebhook(hub.url, world, variance);
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${v.body.messageId}`)).body.status === 'routed', 10000, 'variance routed');
    const published = {
      ...enterprise, version: '2.3.0-sim',
      rules: [{ id: 'standard-warehouse', when: { category: ['WAREHOUSE'], severity: ['standard'] }, then: { team: 'operations-control' } }, ...enterprise.rules],
    };
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: published })).status).toBe(201);
    const stored = (await world.db.query(`SELECT severity, reported_severity, payload->>'severity' AS payload_severity FROM exceptions WHERE code = 'WAREHOUSE.INVENTORY_VARIANCE'`)).rows;
    expect(stored).toEqual([{ severity: 'critical', reported_severity: 'standard', payload_severity: 'critical' }]);

    const before = await settled();
    const r = await api(hub.url, 'POST', '/v1/policies/default/versions/2.3.0-sim/simulate', { body: { days: 1 } });
    expect(r.status).toBe(200);
    expect(r.body.count).toBe(3);
    const byKey = Object.fromEntries(r.body.decisions.map((d: any) => [d.correlationKey, d]));
    expect(byKey['inventory:RNO1:SKU-V']).toMatchObject({
      input: { severity: 'standard', from: 'reported' },
      decision: { ruleId: 'standard-warehouse', team: 'operations-control', severity: 'standard', policy: { version: '2.3.0-sim' } },
      inForce: { ruleId: 'large-amount-at-risk', team: 'warehouse-ops', severity: 'critical' },
      changed: true,
    });
    // Pick shortfalls are reported critical: the candidate's new rule passes them by.
    expect(byKey['order:SO-SIM-1']).toMatchObject({ input: { severity: 'critical', from: 'reported' }, decision: { ruleId: 'priority-fulfilment-risk' }, changed: false });
    expect(await snapshot()).toEqual(before);
  });

  it('runs candidates with the activated versions around them, not the newest folder versions', async () => {
    // Activating 2.1.0 puts an older version than the newest folder (2.2.0) in force.
    expect((await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '2.1.0' } })).status).toBe(200);
    try {
      const before = await settled();
      const sample = { code: 'WAREHOUSE.PICK_SHORTFALL', site: 'DAL2', customerTier: 'standard', references: { order: 'SO-Y', sku: 'A' }, quantities: { expected: 3, actual: 1, unit: 'EA' } };
      const overlay = await api(hub.url, 'POST', '/v1/policies/site-dal2/versions/1.0.0/simulate', { body: { exception: sample } });
      expect(overlay.status).toBe(200);
      expect(overlay.body.decisions[0]).toMatchObject({
        decision: { team: 'dal2-warehouse', policy: { id: 'default', version: '2.1.0', overlay: 'site-dal2@1.0.0' } },
        inForce: { policy: { version: '2.1.0' } },
      });
      const enterpriseCandidate = await api(hub.url, 'POST', '/v1/policies/default/versions/2.3.0-sim/simulate', { body: { exception: sample } });
      expect(enterpriseCandidate.body).toMatchObject({ policy: { overlays: ['bu-returns@1.0.0', 'site-dal2@1.0.0'] } });
      expect(enterpriseCandidate.body.decisions[0]).toMatchObject({ decision: { policy: { version: '2.3.0-sim', overlay: 'site-dal2@1.0.0' } }, inForce: { policy: { version: '2.1.0' } } });
      expect(await snapshot()).toEqual(before);
    } finally {
      expect((await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '2.2.0' } })).status).toBe(200);
    }
  });
});
