import { Redis } from 'ioredis';
import { ErpHttp } from '../../connectors/erp-rest/erp-http.js';
import { pollErp } from '../../connectors/erp-rest/erp-poll.js';
import { RedisRequestBudget } from '../../connectors/erp-rest/request-budget.js';
import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import { seedOrders, seedSample } from '../../connectors/erp-rest/simulator/sample-data.js';
import { simulatorConfig, simulatorInstance, simulatorSecrets } from '../../connectors/erp-rest/simulator/test-instances.js';
import type { CanonicalException } from '../../src/canonical/exception.schema.js';
import { Enrichment } from '../../src/enrichment/enrichment.service.js';
import type { RunningHub } from '../../src/hub.js';
import { ADMIN_KEY, REDIS_URL, api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';

const ENRICH = [
  { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'customer', key: { customer: 'references.customer' }, set: { customerTier: 'tier', 'attributes.creditAvailable': 'creditAvailable' }, timeoutMs: 400 },
  { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'order', key: { order: 'references.order' }, set: { 'attributes.orderValue': 'value' }, timeoutMs: 400 },
];

/** The ERP connector through the real hub: records posted as messages, enrichment before routing, a poll feeding durable ingest. */
describe('ERP connector through the hub', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  let sim: ErpSimulator;
  let redis: Redis;

  async function postRecords(body: unknown, query = 'wait=10', connector = 'erp') {
    const res = await fetch(`${hub.url}/v1/connectors/${connector}/messages?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }
  const exceptionRows = (messageId: string) =>
    world.db.query(`SELECT code, severity, customer_tier, payload FROM exceptions WHERE message_id = $1 ORDER BY ordinal`, [messageId]).then((r) => r.rows);

  beforeAll(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedSample(sim);
    world = newWorld();
    hub = await startInProcess(world);
    redis = new Redis(REDIS_URL);
    // The poll scheduler stays off for this instance: the poll test below drives pollErp itself and counts what it ingests.
    const decl = { id: 'erp', type: 'erp-rest', name: 'Simulated ERP', config: { system: 'sim-erp', mapping: 'erp-rest', ...simulatorConfig(sim, 'odata-v4', 'basic'), enrich: ENRICH, poll: { enabled: false } }, secrets: simulatorSecrets(sim) };
    expect(await api(hub.url, 'POST', '/v1/connectors', { body: decl })).toMatchObject({ status: 201 });
    // An ERP nobody can reach: the hub keeps working, lookups against it fail and are recorded.
    const dead = { id: 'erp-down', type: 'erp-rest', name: 'Unreachable ERP', config: { system: 'erp-down', mapping: 'erp-rest', ...simulatorConfig({ url: 'http://127.0.0.1:9' }, 'rest', 'api-key'), retries: { attempts: 0 }, enrich: [{ codes: ['WAREHOUSE.INVENTORY_VARIANCE'], lookup: 'alternateInventory', key: { sku: 'references.sku' }, set: { 'attributes.alternates': 'sites' } }] }, secrets: { apiKey: 'unreachable-key' } };
    expect(await api(hub.url, 'POST', '/v1/connectors', { body: dead })).toMatchObject({ status: 201 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await hub?.close();
    await world?.drop();
    await sim?.stop();
  });

  it('records posted as a message become ORDER / FINANCE / MASTERDATA exceptions routed by the policy', async () => {
    const res = await postRecords({
      entityType: 'sales-order',
      records: [
        { OrderId: 'SO-7001', CustomerId: 'C-2001', CreditBlock: true, CreditBlockReason: 'credit limit exceeded', PricingStatus: 'OK', ModifiedAt: '2026-11-27T08:00:00Z' },
        { OrderId: 'SO-7002', CustomerId: 'C-2001', DeliveryBlock: 'export documents missing', InvoiceHold: true, InvoiceHoldBy: 'AR-CLERK', ModifiedAt: '2026-11-27T08:01:00Z' },
        { OrderId: 'SO-7003', CustomerId: 'C-2001', PricingStatus: 'OK', ModifiedAt: '2026-11-27T08:02:00Z' },
      ],
    });
    expect(res).toMatchObject({ status: 202, body: { status: 'routed' } });
    const rows = await exceptionRows(res.body.messageId);
    expect(rows.map((r) => r.code)).toEqual(['ORDER.CREDIT_HOLD', 'ORDER.RELEASE_BLOCKED', 'FINANCE.INVOICE_HOLD']);
    const cases = await api(hub.url, 'GET', '/v1/cases?correlationKey=order:SO-7001');
    expect(cases.body.items[0]).toMatchObject({ ownerTeam: 'sales-ops' });

    const customer = await postRecords([{ entityType: 'customer', CustomerId: 'C-3003', Name: 'Harbor Hardware', Tier: 'standard', ModifiedAt: '2026-11-27T08:03:00Z' }]);
    expect((await exceptionRows(customer.body.messageId)).map((r) => r.code)).toEqual(['MASTERDATA.INCOMPLETE_CUSTOMER']);
  });

  it('an unusable body is stored and answered 400 with the reason; an unknown entity type becomes MAPPING_FAILED', async () => {
    const bad = await postRecords({ entityType: 'sales-order', records: [] });
    expect(bad).toMatchObject({ status: 400, body: { message: 'field "records" must be a non-empty array of records', messageId: expect.any(String) } });
    const odd = await postRecords({ entityType: 'purchase-requisition', records: [{ Id: 'PR-1' }] });
    expect(odd.body.status).toBe('failed');
    expect((await exceptionRows(odd.body.messageId)).map((r) => r.code)).toEqual(['INTEGRATION.MAPPING_FAILED']);
  });

  it('enriches a pick shortfall from the ERP before routing (tier makes it critical), then serves the next from the cache', async () => {
    const body = JSON.parse(pickShortfall('SO-88123'));
    delete body.order.customerTier;
    const first = await postWebhook(hub.url, world, JSON.stringify(body));
    expect(first.status).toBe(202);
    const [row] = await waitFor(async () => (await exceptionRows(first.body.messageId)).length && exceptionRows(first.body.messageId), 15000, 'exception');
    expect(row).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL', customer_tier: 'priority', severity: 'critical' });
    expect(row.payload.attributes).toMatchObject({ creditAvailable: 69500, orderValue: 48250, enrichment: { applied: ['erp.customer', 'erp.order'] } });
    const routed = await world.db.query(`SELECT c.routing FROM cases c JOIN exceptions e ON e.case_id = c.id WHERE e.message_id = $1`, [first.body.messageId]);
    expect(routed.rows[0].routing).toMatchObject({ ruleId: 'priority-fulfilment-risk' });
    const customerCalls = sim.requests("Customers('C-1007')");
    expect(customerCalls).toBe(1);

    const second = await postWebhook(hub.url, world, JSON.stringify({ ...body, line: { ...body.line, sku: 'HX-9999' } }));
    const [row2] = await waitFor(async () => (await exceptionRows(second.body.messageId)).length && exceptionRows(second.body.messageId), 15000, 'exception');
    expect(row2).toMatchObject({ customer_tier: 'priority' });
    expect(sim.requests("Customers('C-1007')")).toBe(customerCalls);
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_enrichment_lookups_total\{lookup="customer",outcome="hit"\} [1-9]/);
  });

  it('exceptions of one batch that name the same customer share one ERP lookup', async () => {
    const enrichment = hub.app.get(Enrichment);
    const batch = Array.from({ length: 6 }, (_, i) => ({ code: 'WAREHOUSE.PICK_SHORTFALL', title: `short ${i}`, references: { customer: 'C-3003' }, attributes: {} }) as unknown as CanonicalException);
    const before = sim.requests("Customers('C-3003')");
    const out = await enrichment.enrich(batch);
    expect(sim.requests("Customers('C-3003')") - before).toBe(1);
    expect(out.map((e) => e.customerTier)).toEqual(Array(6).fill('standard'));
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_enrichment_lookups_total\{lookup="customer",outcome="shared"\} 5/);
  });

  it('a slow lookup times out and an unreachable ERP fails: the exception routes on what is known, with the failures recorded', async () => {
    // The ERP answers after a minute; the lookups give up after 400 ms each, so the exception is there long before.
    sim.delayMs = 60_000;
    try {
      const body = JSON.parse(pickShortfall('SO-88124'));
      body.order.customer = 'C-2001';
      delete body.order.customerTier;
      const res = await postWebhook(hub.url, world, JSON.stringify(body));
      const [row] = await waitFor(async () => (await exceptionRows(res.body.messageId)).length && exceptionRows(res.body.messageId), 30000, 'exception');
      expect(row).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL', customer_tier: null });
      const routed = await world.db.query(`SELECT c.routing FROM cases c JOIN exceptions e ON e.case_id = c.id WHERE e.message_id = $1`, [res.body.messageId]);
      expect(routed.rows[0].routing).toMatchObject({ ruleId: 'warehouse' }); // no tier known: the general warehouse rule
      expect(row.payload.attributes.enrichment.errors).toEqual([
        { connector: 'erp', lookup: 'customer', error: 'no answer within 400 ms' },
        { connector: 'erp', lookup: 'order', error: 'no answer within 400 ms' },
      ]);
    } finally {
      sim.delayMs = 0;
    }
    const variance = await postWebhook(hub.url, world, JSON.stringify({ type: 'inventory.variance', occurredAt: new Date().toISOString(), warehouse: { site: 'RNO1' }, location: 'A-01', item: { sku: 'HX-2210', expectedQty: 10, countedQty: 7, uom: 'EA' } }));
    const [v] = await waitFor(async () => (await exceptionRows(variance.body.messageId)).length && exceptionRows(variance.body.messageId), 15000, 'exception');
    expect(v.payload.attributes.enrichment.errors).toEqual([{ connector: 'erp-down', lookup: 'alternateInventory', error: expect.stringContaining('fetch failed') }]);
    // After three failures in a row the lookup is skipped for a while: a down ERP cannot make every exception wait.
    let last: any;
    for (let i = 0; i < 3; i++) {
      const again = await postWebhook(hub.url, world, JSON.stringify({ type: 'inventory.variance', occurredAt: new Date().toISOString(), warehouse: { site: 'RNO1' }, location: `A-0${i + 2}`, item: { sku: `HX-22${i}`, expectedQty: 10, countedQty: 7, uom: 'EA' } }));
      [last] = await waitFor(async () => (await exceptionRows(again.body.messageId)).length && exceptionRows(again.body.messageId), 15000, 'exception');
    }
    expect(last.payload.attributes.enrichment.errors[0].error).toMatch(/^skipped: the last 3 lookups failed/);
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_enrichment_lookups_total\{lookup="alternateInventory",outcome="skipped"\} [1-9]/);
    expect(metrics).toMatch(/hub_enrichment_lookups_total\{lookup="customer",outcome="timeout"\} [1-9]/);
    expect(metrics).toMatch(/hub_enrichment_lookups_total\{lookup="alternateInventory",outcome="error"\} [1-9]/);
  });

  it('a poll reads changed records over HTTP into durable ingest, watermark in Redis; a second poll after a change adds only the change', async () => {
    seedOrders(sim, 12, { every: 4, prefix: 'SO-P' });
    const inst = simulatorInstance(sim, 'odata-v2', 'oauth2-client-credentials', {}, 'erp');
    inst.config.feeds = [{ ...inst.config.feeds[0], pageSize: 5 }];
    const http = new ErpHttp(new RedisRequestBudget(redis, world.prefix));
    const stateKey = `${world.prefix}:erp-poll:erp`;
    const state = {
      get: async (k: string) => JSON.parse((await redis.hget(stateKey, k)) ?? 'null'),
      set: async (k: string, v: unknown) => void (await redis.hset(stateKey, k, JSON.stringify(v))),
    };
    const outcomes: string[] = [];
    const ingest = async (body: Buffer, meta: { eventId: string }) => {
      const r = await postRecords(body.toString(), `eventId=${encodeURIComponent(meta.eventId)}`);
      outcomes.push(r.body.status);
    };
    const first = await pollErp(http, inst, state, ingest);
    const total = sim.data.sets.get('SalesOrders')!.length;
    expect(first.feeds[0]).toMatchObject({ records: total, more: false });
    expect(outcomes.every((o) => o === 'accepted')).toBe(true);

    sim.data.upsert('SalesOrders', { OrderId: 'SO-P000001', CreditBlock: true, CreditBlockReason: 'overdue invoices' });
    outcomes.length = 0;
    const second = await pollErp(http, inst, state, ingest);
    expect(second.feeds[0].records).toBe(1);
    // Replaying the same poll from an older watermark re-sends records with the same event ids: duplicates, nothing new.
    await state.set('watermark:sales-order', null);
    outcomes.length = 0;
    await pollErp(http, inst, state, ingest);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(total);
    const holds = await waitFor(async () => {
      const r = await world.db.query(`SELECT order_ref FROM exceptions WHERE code = 'ORDER.CREDIT_HOLD' AND order_ref LIKE 'SO-P%' ORDER BY order_ref`);
      return r.rows.length === 4 && r.rows;
    }, 15000, 'credit holds');
    expect(holds.map((r: { order_ref: string }) => r.order_ref)).toEqual(['SO-P000001', 'SO-P000004', 'SO-P000008', 'SO-P000012']);
  });
});

describe('the sample ERP instance (config/connectors/erp.json)', () => {
  it('loads, and the hub runs with the ERP unreachable: exceptions route without enrichment, failures recorded', async () => {
    const secret = `whsec_${Buffer.from('sample-erp-test-secret-0123456789').toString('base64')}`;
    const world = newWorld({ HUB_CONNECTORS_DIR: 'config/connectors' });
    process.env.HUB_DEMO_WMS_SECRET = secret; // declarations read $env references from the process environment
    const hub = await startInProcess(world);
    try {
      const list = await api(hub.url, 'GET', '/v1/connectors/erp');
      expect(list).toMatchObject({ status: 200, body: { id: 'erp', type: 'erp-rest', enabled: true } });
      const res = await postWebhook(hub.url, world, pickShortfall('SO-1'), { secret }, 'reno-wms');
      expect(res.status).toBe(202);
      const row = await waitFor(async () => (await world.db.query(`SELECT payload FROM exceptions WHERE message_id = $1`, [res.body.messageId])).rows[0], 15000, 'exception');
      expect(row.payload.customerTier).toBe('priority'); // sent by the WMS; kept
      expect(row.payload.attributes.enrichment.errors.map((e: { lookup: string }) => e.lookup)).toEqual(['customer', 'order']);
    } finally {
      delete process.env.HUB_DEMO_WMS_SECRET;
      await hub.close();
      await world.drop();
    }
  });
});
