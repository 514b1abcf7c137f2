import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import { seedOrders } from '../../connectors/erp-rest/simulator/sample-data.js';
import { simulatorConfig, simulatorSecrets } from '../../connectors/erp-rest/simulator/test-instances.js';
import type { RunningHub } from '../../src/hub.js';
import { api, newWorld, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';

/**
 * ERP delta polling run by the hub's poll scheduler (not called by the test): changed records
 * become messages once each, credit holds become cases, a later change is picked up from the
 * persisted watermark, and an ERP outage is reported on the connector's status.
 */
describe('ERP delta polling through the poll scheduler', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  let sim: ErpSimulator;

  const polled = async () =>
    (await world.db.query(`SELECT sender_event_id FROM inbound_messages WHERE connector_id = 'erp-feed' AND meta->>'origin' = 'poll'`)).rows.map(
      (r: { sender_event_id: string }) => r.sender_event_id,
    );
  const creditHolds = async () =>
    (await world.db.query(`SELECT references_json->>'order' AS o FROM (SELECT payload->'references' AS references_json FROM exceptions WHERE connector_id = 'erp-feed' AND code = 'ORDER.CREDIT_HOLD') s ORDER BY 1`)).rows.map(
      (r: { o: string }) => r.o,
    );

  beforeAll(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedOrders(sim, 30, { every: 10, prefix: 'SO-P', modifiedAt: '2026-11-27T08:00:00Z' });
    world = newWorld({ HUB_POLL_TICK_MS: '100' });
    hub = await startInProcess(world);
    const config = { system: 'sim-erp', mapping: 'erp-rest', ...simulatorConfig(sim, 'odata-v4', 'basic'), poll: { enabled: true, intervalMs: 1000, maxRecordsPerRun: 1000, downAfterFailures: 2 } };
    config.feeds = config.feeds.filter((f: { entityType: string }) => f.entityType === 'sales-order');
    const decl = { id: 'erp-feed', type: 'erp-rest', name: 'Polled ERP', config, secrets: simulatorSecrets(sim) };
    expect(await api(hub.url, 'POST', '/v1/connectors', { body: decl })).toMatchObject({ status: 201 });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
    await sim?.stop();
  });

  it('ingests every changed record once and routes the credit holds', async () => {
    await waitFor(async () => ((await polled()).length === 30 ? true : null), 30_000, 'thirty polled records');
    await waitFor(async () => ((await creditHolds()).length === 3 ? true : null), 30_000, 'three credit holds');
    expect(await creditHolds()).toEqual(['SO-P000010', 'SO-P000020', 'SO-P000030']);
    // Later polls find nothing new: the watermark is persisted, records are not ingested twice.
    await new Promise((r) => setTimeout(r, 2500));
    expect(new Set(await polled()).size).toBe(30);
    expect(await polled()).toHaveLength(30);
  });

  it('picks up a record changed after the last poll, from the watermark', async () => {
    // No ModifiedAt given: the ERP stamps the change with its clock, as a real one does.
    sim.data.upsert('SalesOrders', { OrderId: 'SO-P000005', CreditBlock: true, CreditBlockReason: 'payment overdue' });
    await waitFor(async () => ((await creditHolds()).includes('SO-P000005') ? true : null), 30_000, 'the new credit hold');
    const ids = await polled();
    expect(ids).toHaveLength(31);
    expect(ids.filter((id) => id.startsWith('sales-order:SO-P000005:'))).toHaveLength(2);
  });

  it('reports an unreachable ERP on the connector status and raises CONNECTOR_DOWN', async () => {
    await sim.stop();
    await waitFor(
      async () => {
        const s = await api(hub.url, 'GET', '/v1/connectors/erp-feed/status');
        return s.body?.polling?.consecutiveFailures >= 2 ? s.body : null;
      },
      60_000,
      'two failed polls',
    );
    await waitFor(
      async () => ((await world.db.query(`SELECT 1 FROM exceptions WHERE connector_id = 'erp-feed' AND code = 'INTEGRATION.CONNECTOR_DOWN'`)).rowCount ? true : null),
      30_000,
      'CONNECTOR_DOWN',
    );
  });
});
