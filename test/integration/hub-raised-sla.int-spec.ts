import { jest } from '@jest/globals';
import { Queue } from 'bullmq';
import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import { simulatorConfig, simulatorSecrets } from '../../connectors/erp-rest/simulator/test-instances.js';
import { ExpectedDocuments } from '../../src/matching/expected-documents.service.js';
import { Clock, ManualClock } from '../../src/sla/clock.js';
import { ADMIN_KEY, api, newWorld, pickShortfall, postWebhook, REDIS_URL, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { TestSubscriber } from '../support/subscriber.js';
import { interchange } from '../support/x12-fixtures.js';

jest.setTimeout(120_000);

/**
 * Exceptions the hub raises itself (poll alarms, document matching, expected documents, webhook
 * delivery) go through the same recording as a partner's message: their cases get SLA clocks (rows,
 * due times mirrored on the case, alarms in Redis), and a case the hub clears stops its clocks.
 * Shipped policy default (critical: 24x7, acknowledge 1 h, resolve 8 h; standard: us-central-business,
 * acknowledge 4 h, resolve 22 h), with the SLA clock held at Monday 2026-12-07 09:00 America/Chicago.
 */
const OPENED = '2026-12-07T15:00:00.000Z';
// Standard on us-central-business (Mon–Fri 07–18): ack 4 business hours → Mon 13:00 CST; resolve 22 h → Mon 9 h + Tue 11 h + Wed 2 h → Wed 09:00 CST.
const STANDARD_DUE = { ack: '2026-12-07T19:00:00.000Z', resolve: '2026-12-09T15:00:00.000Z' };

const SUPPLIER = { id: 'acme-supply', name: 'Acme Supply', isa: { qualifier: 'ZZ', id: 'ACMESUPPLY' }, ack: '997' };
const EDI = { id: 'edi', type: 'x12', name: 'EDI gateway', config: { system: 'edi-gateway', mapping: 'x12-documents', us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [SUPPLIER] } };
let isa = 3000;
const po = (n: string, lines: [string, number, number][]) =>
  interchange({
    from: 'ACMEHOME', to: 'ACMESUPPLY', isa13: isa++, functionalId: 'PO',
    sets: [{ id: '850', control: '0001', body: [`BEG*00*SA*${n}**20261120`, ...lines.map(([sku, q, p], i) => `PO1*${i + 1}*${q}*EA*${p}**VP*${sku}`), `CTT*${lines.length}`] }],
  });
const asn = (shipment: string, poNumber: string, lines: [string, number][]) =>
  interchange({
    from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: isa++, functionalId: 'SH',
    sets: [{
      id: '856', control: '0001',
      body: [`BSN*00*${shipment}*20261127*1200`, 'DTM*011*20261127', 'HL*1**S', 'HL*2*1*O', `PRF*${poNumber}`,
        ...lines.flatMap(([sku, q], i) => [`HL*${i + 3}*2*I`, `LIN**VP*${sku}`, `SN1**${q}*EA`]), `CTT*${lines.length}`],
    }],
  });

interface CaseRow { id: string; code: string; severity: string; status: string; ack_due_at: Date | null; resolve_due_at: Date | null }
interface ClockRow { id: string; kind: string; sla_id: string; status: string; outcome: string | null; due_at: Date | null }

describe('exceptions the hub raises itself get SLA clocks like any other', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let alarms: Queue;

  beforeAll(async () => {
    world = newWorld({
      HUB_TEST_CLOCK: 'true',
      HUB_POLL_TICK_MS: '100',
      HUB_WATCH_INTERVAL_MS: '3600000',
      HUB_DELIVERY_ALLOW_HTTP: 'true',
      HUB_DELIVERY_ALLOWED_NETWORKS: '127.0.0.1/32',
      HUB_RELAY_INTERVAL_MS: '30',
    });
    hub = await startInProcess(world);
    (hub.app.get(Clock) as ManualClock).set(OPENED);
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: EDI })).status).toBe(201);
    const u = new URL(REDIS_URL);
    alarms = new Queue('sla-timers', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: world.prefix });
  });
  afterAll(async () => {
    await alarms?.close();
    await hub?.close();
    await world?.drop();
  });

  const caseWhere = async (sql: string, arg: string): Promise<CaseRow | undefined> =>
    (await world.db.query(`SELECT id, code, severity, status, ack_due_at, resolve_due_at FROM cases WHERE ${sql} ORDER BY id DESC LIMIT 1`, [arg])).rows[0];
  const caseByKey = (key: string) => waitFor(() => caseWhere('correlation_key = $1', key), 30_000, `case ${key}`);
  const clocksOf = async (caseId: string): Promise<ClockRow[]> =>
    (await world.db.query(`SELECT id, kind, sla_id, status, outcome, due_at FROM sla_clocks WHERE case_id = $1 AND task_id IS NULL ORDER BY kind`, [caseId])).rows;
  /** Waits until every clock has (or, `false`, none has) an alarm waiting in Redis (job id sla_<clock>_<threshold>): set and removed after commit. */
  const alarmsSet = (clocks: ClockRow[], set = true) =>
    waitFor(async () => {
      const ids = new Set((await alarms.getDelayed()).map((j) => j.id!.split('_')[1]));
      return clocks.every((k) => ids.has(k.id) === set);
    }, 15_000, `alarms ${set ? 'set' : 'removed'} for ${clocks.length} clocks`);
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

  /** The case's own clocks run under `sla`, their due times are on the case row, and each has its alarm set. */
  async function expectRunningClocks(c: CaseRow, sla: string, due: { ack: string; resolve: string }) {
    expect({ ack: iso(c.ack_due_at), resolve: iso(c.resolve_due_at) }).toEqual(due);
    const clocks = await clocksOf(c.id);
    expect(clocks.map((k) => [k.kind, k.sla_id, k.status, iso(k.due_at)])).toEqual([
      ['acknowledge', sla, 'running', due.ack],
      ['resolve', sla, 'running', due.resolve],
    ]);
    await alarmsSet(clocks);
    return clocks;
  }

  it('CONNECTOR_DOWN from the poll scheduler runs the same clocks as a webhook case of its severity; polling again clears it and stops them', async () => {
    // The webhook case to compare with: a pick shortfall for a standard-tier customer is critical by default.
    await postWebhook(hub.url, world, pickShortfall('SO-HUB-1', 'HX-2210', { order: { number: 'SO-HUB-1', customer: 'C-1', customerTier: 'standard', currency: 'USD' } }));
    const webhook = await waitFor(async () => {
      const c = await caseWhere(`code = $1`, 'WAREHOUSE.PICK_SHORTFALL');
      return c?.ack_due_at ? c : undefined;
    }, 30_000, 'the webhook case with its clocks');
    expect(webhook.severity).toBe('critical');
    const critical = { ack: iso(webhook.ack_due_at)!, resolve: iso(webhook.resolve_due_at)! };
    expect(critical).toEqual({ ack: '2026-12-07T16:00:00.000Z', resolve: '2026-12-07T23:00:00.000Z' });
    await expectRunningClocks(webhook, 'critical', critical);

    const sim = new ErpSimulator();
    const port = Number(new URL(await sim.start()).port);
    try {
      const config = { system: 'sim-erp', mapping: 'erp-rest', ...simulatorConfig(sim, 'odata-v4', 'basic'), poll: { enabled: true, intervalMs: 1000, maxRecordsPerRun: 100, downAfterFailures: 2 } };
      config.feeds = config.feeds.filter((f: { entityType: string }) => f.entityType === 'sales-order');
      expect((await api(hub.url, 'POST', '/v1/connectors', { body: { id: 'erp-down', type: 'erp-rest', name: 'ERP', config, secrets: simulatorSecrets(sim) } })).status).toBe(201);
      await waitFor(async () => (await api(hub.url, 'GET', '/v1/connectors/erp-down/status')).body?.polling?.lastSuccessAt, 30_000, 'a first good poll');

      await sim.stop();
      const down = await caseByKey('connector-down:erp-down');
      expect(down).toMatchObject({ code: 'INTEGRATION.CONNECTOR_DOWN', severity: 'critical', status: 'open' });
      const clocks = await expectRunningClocks(down, 'critical', critical);

      await sim.start(port);
      await waitFor(async () => ((await caseWhere('id = $1', down.id))?.status === 'resolved' ? true : undefined), 30_000, 'the CONNECTOR_DOWN case cleared');
      const stopped = await clocksOf(down.id);
      expect(stopped.map((k) => [k.kind, k.status, k.outcome])).toEqual([['acknowledge', 'stopped', 'met'], ['resolve', 'stopped', 'met']]);
      await alarmsSet(clocks, false);
    } finally {
      await sim.stop().catch(() => undefined);
    }
  });

  it('ASN_MISMATCH from document matching gets its clocks; the purchase order arriving clears the case and stops them', async () => {
    const post = (body: string, query = 'wait=10') =>
      fetch(`${hub.url}/v1/connectors/edi/messages?${query}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/edi-x12' }, body });
    expect((await post(asn('SH-HUB-1', 'PO-HUB-1', [['SKU-A', 10]]))).status).toBe(202);
    const c = await caseByKey('asn-match:acme-supply:PO-HUB-1');
    expect(c).toMatchObject({ code: 'PROCUREMENT.ASN_MISMATCH', severity: 'standard', status: 'open' });
    const clocks = await expectRunningClocks(c, 'standard', STANDARD_DUE);

    await post(po('PO-HUB-1', [['SKU-A', 10, 5]]), 'wait=10&direction=outbound');
    expect((await caseWhere('id = $1', c.id))?.status).toBe('resolved');
    expect((await clocksOf(c.id)).map((k) => [k.kind, k.status, k.outcome])).toEqual([['acknowledge', 'stopped', 'met'], ['resolve', 'stopped', 'met']]);
    await alarmsSet(clocks, false);

    // The purchase order planned its 855 timer; raised by the scheduler's check, PO_ACK_MISSING gets clocks too.
    const { rows: [timer] } = await world.db.query(`SELECT due_at FROM expected_documents WHERE po_number = 'PO-HUB-1' AND kind = 'po_ack'`);
    expect(await hub.app.get(ExpectedDocuments).fireDue(new Date(new Date(timer.due_at).getTime() + 60_000))).toBe(1);
    const missing = await caseByKey('po-ack-missing:acme-supply:PO-HUB-1');
    expect(missing).toMatchObject({ code: 'PROCUREMENT.PO_ACK_MISSING', status: 'open' });
    await expectRunningClocks(missing, 'standard', STANDARD_DUE);
  });

  it('DELIVERY_FAILED for a subscription disabled by its endpoint (410) gets its clocks', async () => {
    const sub = await new TestSubscriber().start();
    try {
      sub.behaviour = () => ({ status: 410 });
      const s = await api(hub.url, 'POST', '/v1/subscriptions', { body: { name: 'gone', url: sub.url, eventTypes: ['case.opened'], filters: { sites: ['RNO7'] } } });
      expect(s.status).toBe(201);
      await postWebhook(hub.url, world, pickShortfall('SO-HUB-2', 'HX-2210', { warehouse: { site: 'RNO7', businessUnit: 'west' } }));
      const c = await caseByKey(`delivery-failed:${s.body.id}`);
      expect(c).toMatchObject({ code: 'INTEGRATION.DELIVERY_FAILED', severity: 'standard', status: 'open' });
      await expectRunningClocks(c, 'standard', STANDARD_DUE);
    } finally {
      await sub.stop();
    }
  });
});
