import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import { seedSample } from '../../connectors/erp-rest/simulator/sample-data.js';
import { simulatorConfig, simulatorSecrets } from '../../connectors/erp-rest/simulator/test-instances.js';
import { Clock, ManualClock } from '../../src/sla/clock.js';
import { api, newWorld, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { auditActions, newestDefaultVersion, ringAlarms, waitForAudit } from '../support/sla-harness.js';

/** The ERP instance as config/connectors/erp.json declares it (enrichment rules), pointed at the test's simulator. */
const ENRICH = [
  { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'customer', key: { customer: 'references.customer' }, set: { customerTier: 'tier', 'attributes.creditAvailable': 'creditAvailable' }, timeoutMs: 2000 },
  { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'order', key: { order: 'references.order' }, set: { 'attributes.orderValue': 'value', 'attributes.erpOrderStatus': 'status' }, timeoutMs: 2000 },
];

const wmsEvent = (type: 'pick.shortfall' | 'pick.shortfall_cleared', occurredAt: string) =>
  JSON.stringify({
    type,
    occurredAt,
    warehouse: { site: 'RNO1', businessUnit: 'west' },
    // No tier from the WMS: the ERP lookup supplies it.
    order: { number: 'SO-88123', customer: 'C-1007', currency: 'USD' },
    line: type === 'pick.shortfall' ? { number: 1, sku: 'HX-2210', orderedQty: 10, pickedQty: 4, uom: 'EA', unitPrice: 12.5 } : { number: 1, sku: 'HX-2210' },
    ...(type === 'pick.shortfall' ? { reason: 'inventory consumed by another order' } : { resolution: 'replenishment received and picked' }),
  });

/**
 * The showcase (issue 8, the article's scenario) end to end: real hub with a controllable clock,
 * real ERP simulator, signed WMS webhooks, the shipped newest default policy.
 */
describe('pick shortfall on a priority order, end to end', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let sim: ErpSimulator;
  let clock: ManualClock;
  const version = newestDefaultVersion();

  beforeAll(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedSample(sim);
    // No alternate stock anywhere else: the SLA window runs out and the case escalates.
    sim.data.upsert('Inventory', { ItemSite: 'HX-2210@SAC2', Sku: 'HX-2210', Site: 'SAC2', Available: 0 });
    sim.data.upsert('Inventory', { ItemSite: 'HX-2210@LAS1', Sku: 'HX-2210', Site: 'LAS1', Available: 0 });
    world = newWorld({ HUB_TEST_CLOCK: 'true' });
    hub = await startInProcess(world);
    clock = hub.app.get(Clock) as ManualClock;
    clock.set('2026-12-07T15:00:00Z'); // Monday 09:00 America/Chicago
    const erp = { id: 'erp', type: 'erp-rest', name: 'Simulated ERP', config: { system: 'sim-erp', mapping: 'erp-rest', ...simulatorConfig(sim, 'odata-v4', 'basic'), enrich: ENRICH }, secrets: simulatorSecrets(sim) };
    expect(await api(hub.url, 'POST', '/v1/connectors', { body: erp })).toMatchObject({ status: 201 });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
    await sim?.stop();
  });

  it('classifies, holds the invoice, alerts, checks stock, guides customer service, escalates, and releases the hold when cleared', async () => {
    expect(version).toBe('2.3.0');
    // The order is released in the ERP.
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88123', Status: 'Released', InvoiceHold: false });

    // The WMS reports the pick shortfall.
    expect((await postWebhook(hub.url, world, wmsEvent('pick.shortfall', '2026-12-07T15:00:00Z'))).status).toBe(202);
    // (The ERP's delta poll runs too and opens a credit-hold case for another order of the sample: look for ours.)
    const id = await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT c.id FROM cases c WHERE c.code = 'WAREHOUSE.PICK_SHORTFALL' AND EXISTS (SELECT 1 FROM sla_clocks k WHERE k.case_id = c.id)`);
      return rows[0]?.id as string | undefined;
    }, 20000, 'the shortfall case');

    // Enrichment gave the tier from the ERP; the rule made it a critical fulfilment risk.
    const kase = (await api(hub.url, 'GET', `/v1/cases/${id}`)).body;
    expect(kase).toMatchObject({ severity: 'critical', ownerTeam: 'warehouse-ops', routing: { ruleId: 'erp-priority-fulfilment-risk', policy: { id: 'default', version } } });
    const { rows: ex } = await world.db.query(`SELECT customer_tier, payload FROM exceptions WHERE case_id = $1`, [id]);
    expect(ex[0].customer_tier).toBe('priority');
    expect(ex[0].payload.attributes).toMatchObject({ erpOrderStatus: 'Released', orderValue: 48250 });

    // Actions: hold placed in the ERP, warehouse operations alerted, alternate stock checked; the release waits for the resolution.
    const actions = async () => (await api(hub.url, 'GET', `/v1/cases/${id}/actions`)).body.items as any[];
    const settled = await waitFor(async () => {
      const a = await actions();
      return a.filter((x) => x.status === 'done').length === 3 ? a : undefined;
    }, 20000, 'three actions done');
    const by = (name: string) => settled.find((a) => a.action === name);
    expect(by('erp.placeInvoiceHold')).toMatchObject({ status: 'done', params: { order: 'SO-88123' } });
    expect(by('notify')).toMatchObject({ status: 'done', params: { team: 'warehouse-ops', message: expect.stringContaining('SO-88123 (priority customer C-1007, HX-2210 at RNO1)') } });
    expect(by('erp.queryAlternateInventory')).toMatchObject({ status: 'done', params: { sku: 'HX-2210', excludeSite: 'RNO1' }, result: { summary: 'no alternate stock of HX-2210', response: { totalAvailable: 0 } } });
    expect(by('erp.releaseInvoiceHold')).toMatchObject({ status: 'on-resolve', params: { order: 'SO-88123' }, attempts: 0 });
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ InvoiceHold: true, InvoiceHoldBy: 'exception-hub' });
    const notified = await waitForAudit(world, id, 'case.notified');
    expect(notified[0].after).toMatchObject({ team: 'warehouse-ops', rule: 'erp-priority-fulfilment-risk', policy: { version } });

    // Customer service gets a task with the guidance for a priority account.
    const tasks = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    expect(tasks).toEqual([expect.objectContaining({ task: 'customer-communication', team: 'customer-service', status: 'open', title: expect.stringMatching(/^Priority account: email the customer/) })]);

    // Warehouse operations take it (in time: the acknowledge clock is met).
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/acknowledge`, { body: {} })).status).toBe(200);

    // No alternate stock within the SLA window (8 business hours for a priority, critical shortfall): sales-ops and procurement join.
    clock.set('2026-12-07T23:01:00Z'); // Monday 17:01 Chicago
    await ringAlarms(world);
    const escalated = await waitForAudit(world, id, 'case.escalated', 2, (a) => a.at === 100 && !a.clock.taskId);
    expect(escalated.map((e) => e.after.to).sort()).toEqual(['procurement', 'sales-ops']);
    expect(escalated[0].after.cause).toMatchObject({ rule: 'erp-priority-fulfilment-risk', policy: { id: 'default', version } });
    expect((await api(hub.url, 'GET', `/v1/cases/${id}`)).body.extraTeams.sort()).toEqual(['procurement', 'sales-ops']);

    // The WMS reports the shortfall cleared: the case resolves and the hold is released in the ERP.
    expect((await postWebhook(hub.url, world, wmsEvent('pick.shortfall_cleared', '2026-12-07T23:05:00Z'))).status).toBe(202);
    await waitFor(async () => (await actions()).find((a) => a.action === 'erp.releaseInvoiceHold' && a.status === 'done'), 20000, 'hold released');
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ InvoiceHold: false });
    const resolved = (await api(hub.url, 'GET', `/v1/cases/${id}`)).body;
    expect(resolved).toMatchObject({ status: 'resolved', resolutionNote: expect.stringContaining('rule shortfall-cleared') });
    expect(resolved.slas.filter((c: any) => !c.taskId).every((c: any) => c.status === 'stopped')).toBe(true);

    // Every step in the audit trail, with the rule and the policy version.
    const trail = await auditActions(world, id);
    const done = trail.filter((a) => a.action === 'case.action.done');
    expect(done.map((a) => a.after.action).sort()).toEqual(['erp.placeInvoiceHold', 'erp.queryAlternateInventory', 'erp.releaseInvoiceHold', 'notify']);
    for (const a of done) expect(a.after).toMatchObject({ rule: 'erp-priority-fulfilment-risk', policy: { id: 'default', version } });
    expect(trail.map((a) => a.action)).toEqual(expect.arrayContaining(['case.opened', 'case.task.opened', 'case.notified', 'sla.breached', 'case.escalated', 'case.resolved']));

    // The reports count it.
    const headline = (await api(hub.url, 'GET', '/v1/reports/headline?code=WAREHOUSE.PICK_SHORTFALL')).body;
    expect(headline.summary).toMatchObject({ casesOpened: 1, casesResolved: 1, criticalExceptions: 1 });
  });

  it('a strategic account gets call guidance; completing the customer-service task resolves the case and releases the hold', async () => {
    sim.data.upsert('Customers', { CustomerId: 'C-4004', Name: 'Mercy Health Network', Tier: 'strategic', CreditLimit: 900000, CreditUsed: 0, Currency: 'USD', PaymentTerms: 'NET45', TaxId: '84-9999999', BillingAddress: '4 Mercy Pl, Reno NV' });
    sim.data.upsert('SalesOrders', { OrderId: 'SO-90001', CustomerId: 'C-4004', Status: 'Released', Site: 'RNO1', NetAmount: 120000, Currency: 'USD', CreditBlock: false, PricingStatus: 'OK', InvoiceHold: false });
    const body = JSON.parse(wmsEvent('pick.shortfall', '2026-12-08T15:00:00Z'));
    body.order = { number: 'SO-90001', customer: 'C-4004', currency: 'USD' };
    expect((await postWebhook(hub.url, world, JSON.stringify(body))).status).toBe(202);
    const id = await waitFor(async () => (await world.db.query(`SELECT id FROM cases WHERE correlation_key LIKE '%SO-90001%'`)).rows[0]?.id as string | undefined, 20000, 'the case');
    expect((await api(hub.url, 'GET', `/v1/cases/${id}`)).body.routing).toMatchObject({ ruleId: 'erp-strategic-fulfilment-risk', policy: { version } });
    await waitFor(async () => sim.data.get('SalesOrders', 'SO-90001')?.InvoiceHold === true, 20000, 'hold placed');
    const tasks = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    expect(tasks).toEqual([expect.objectContaining({ task: 'customer-communication', team: 'customer-service', title: expect.stringMatching(/^Strategic account: call the buyer/) })]);
    const done = await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${tasks[0].id}/complete`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } });
    expect(done.body).toMatchObject({ caseResolved: true, case: { status: 'resolved' } });
    const release = await waitFor(async () => ((await api(hub.url, 'GET', `/v1/cases/${id}/actions`)).body.items as any[]).find((a) => a.action === 'erp.releaseInvoiceHold' && a.status === 'done'), 20000, 'hold released');
    expect(release).toMatchObject({ attempts: 1, params: { order: 'SO-90001' } });
    expect(sim.data.get('SalesOrders', 'SO-90001')).toMatchObject({ InvoiceHold: false });
  });
});
