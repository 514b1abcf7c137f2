import { Queue } from 'bullmq';
import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import { seedSample } from '../../connectors/erp-rest/simulator/sample-data.js';
import { simulatorConfig, simulatorSecrets } from '../../connectors/erp-rest/simulator/test-instances.js';
import { api, newWorld, pickShortfall, postWebhook, REDIS_URL, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { auditActions, newestDefaultVersion } from '../support/sla-harness.js';

/** The ERP order lookup, as config/connectors/erp.json declares it: it tells the policy the order is known to the ERP. */
const ENRICH = [{ codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'order', key: { order: 'references.order' }, set: { 'attributes.erpOrderStatus': 'status' }, timeoutMs: 2000 }];

/**
 * Pausing and resuming a downstream process, as the shipped policy declares it (rule regulated-goods-order):
 * a hazmat pick shortfall on an ERP order pauses the order's fulfilment in the ERP simulator (a real HTTP
 * server); the answer to the pause is lost once, the action queue retries under the same idempotency key
 * and the ERP pauses once; resolving the case resumes it.
 */
describe('pause and resume of an order fulfilment in the ERP', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let sim: ErpSimulator;

  beforeAll(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedSample(sim);
    world = newWorld();
    hub = await startInProcess(world);
    // No client-side retries: a lost answer is retried by the hub's action queue, attempt by attempt.
    const erp = { id: 'erp', type: 'erp-rest', name: 'Simulated ERP', config: { system: 'sim-erp', mapping: 'erp-rest', ...simulatorConfig(sim, 'odata-v4', 'basic'), retries: { attempts: 0 }, poll: { enabled: false }, enrich: ENRICH }, secrets: simulatorSecrets(sim) };
    expect(await api(hub.url, 'POST', '/v1/connectors', { body: erp })).toMatchObject({ status: 201 });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
    await sim?.stop();
  });

  it('pauses once despite a lost answer, records both actions on the case and in the audit trail, and resumes on resolve', async () => {
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88123', Status: 'Released', FulfilmentHold: false });
    sim.loseAnswerNext(1, 'FulfilmentHold');
    const line = { number: 1, sku: 'HX-2210', orderedQty: 10, pickedQty: 4, uom: 'EA', unitPrice: 12.5, complianceFlags: ['hazmat'] };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-88123', 'HX-2210', { line }))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined, 15000, 'the case');
    const kase = (await api(hub.url, 'GET', `/v1/cases/${caseId}`)).body;
    expect(kase).toMatchObject({ ownerTeam: 'quality-compliance', severity: 'critical', routing: { ruleId: 'regulated-goods-order', policy: { id: 'default', version: newestDefaultVersion() } } });

    const actions = async () => (await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[];
    const pause = await waitFor(async () => (await actions()).find((a) => a.action === 'erp.pauseFulfilment' && a.status === 'done'), 30000, 'the pause done');
    // The first attempt was applied by the ERP but its answer was lost; the retry carried the same key and got the recorded answer.
    expect(pause).toMatchObject({ attempts: 2, result: { summary: 'fulfilment of order SO-88123 paused', response: { OrderId: 'SO-88123', FulfilmentHold: true, FulfilmentPauses: 1 } } });
    const writes = sim.log.filter((l) => l.method === 'POST' && l.path.includes('FulfilmentHold'));
    expect(writes.map((w) => w.status)).toEqual([0, 201]);
    expect(writes.map((w) => w.headers['idempotency-key'])).toEqual([pause.idempotencyKey, pause.idempotencyKey]);
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ FulfilmentHold: true, FulfilmentPauses: 1, FulfilmentHoldBy: 'exception-hub' });
    expect((await actions()).find((a) => a.action === 'erp.resumeFulfilment')).toMatchObject({ status: 'on-resolve', attempts: 0 });

    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'hazmat paperwork found' } })).status).toBe(200);
    const resume = await waitFor(async () => (await actions()).find((a) => a.action === 'erp.resumeFulfilment' && a.status === 'done'), 30000, 'the resume done');
    expect(resume).toMatchObject({ attempts: 1, result: { summary: 'fulfilment of order SO-88123 resumed', response: { FulfilmentHold: false, FulfilmentResumes: 1 } } });
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ FulfilmentHold: false, FulfilmentPauses: 1, FulfilmentResumes: 1 });

    const done = (await auditActions(world, caseId)).filter((a) => a.action === 'case.action.done');
    expect(done.map((a) => [a.after.action, a.after.attempts, a.after.summary])).toEqual(expect.arrayContaining([
      ['erp.pauseFulfilment', 2, 'fulfilment of order SO-88123 paused'],
      ['erp.resumeFulfilment', 1, 'fulfilment of order SO-88123 resumed'],
    ]));
    expect(done.every((a) => a.after.rule === 'regulated-goods-order' && a.after.policy?.id === 'default')).toBe(true);

    // The cause recurs within the re-open window: the case re-opens and its rule's actions run for the
    // new round (keys ending :r1), so the order's fulfilment is paused again until the next resolve.
    expect((await postWebhook(hub.url, world, pickShortfall('SO-88123', 'HX-2210', { line: { ...line, pickedQty: 3 } }))).status).toBe(202);
    const again = await waitFor(async () => (await actions()).find((a) => a.action === 'erp.pauseFulfilment' && a.idempotencyKey === `${pause.idempotencyKey}:r1` && a.status === 'done'), 30000, 'the pause of the second round done');
    expect(again).toMatchObject({ attempts: 1, result: { summary: 'fulfilment of order SO-88123 paused' } });
    expect((await api(hub.url, 'GET', `/v1/cases/${caseId}`)).body).toMatchObject({ status: 'open', reopenCount: 1 });
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ FulfilmentHold: true, FulfilmentPauses: 2, FulfilmentResumes: 1 });
    expect((await actions()).filter((a) => a.action === 'erp.resumeFulfilment').map((a) => [a.status, a.idempotencyKey])).toEqual(
      expect.arrayContaining([['done', resume.idempotencyKey], ['on-resolve', `${resume.idempotencyKey}:r1`]]),
    );
  }, 90_000);

  const shortfallOn = async (order: string) => {
    const line = { number: 1, sku: 'HX-2210', orderedQty: 10, pickedQty: 4, uom: 'EA', unitPrice: 12.5, complianceFlags: ['hazmat'] };
    expect((await postWebhook(hub.url, world, pickShortfall(order, 'HX-2210', { line }))).status).toBe(202);
    return waitFor(async () => (await world.db.query(`SELECT id FROM cases WHERE correlation_key = $1`, [`order:${order}`])).rows[0]?.id as string | undefined, 15000, `the case of ${order}`);
  };
  const settledAction = (caseId: string, action: string) =>
    waitFor(async () => ((await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[]).find((a) => a.action === action && ['done', 'failed'].includes(a.status)), 30000, `${action} settled`);

  it('leaves a hold somebody else placed before the case in place when the case resolves', async () => {
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88200', Status: 'Released', FulfilmentHold: true, FulfilmentHoldBy: 'credit-desk' });
    const caseId = await shortfallOn('SO-88200');
    const pause = await settledAction(caseId, 'erp.pauseFulfilment');
    expect(pause).toMatchObject({ status: 'done', attempts: 1, result: { summary: 'fulfilment of order SO-88200 was already paused', changed: false } });

    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'paperwork found' } })).status).toBe(200);
    const resume = await settledAction(caseId, 'erp.resumeFulfilment');
    expect(resume).toMatchObject({ status: 'done', result: { changed: false } });
    expect(resume.result.summary).toMatch(/^left as found: erp\.pauseFulfilment found it already in place/);
    // The ERP never saw a release for this order: the credit desk's hold stands.
    expect(sim.log.filter((l) => l.method === 'DELETE' && l.path.includes('SO-88200'))).toHaveLength(0);
    expect(sim.data.get('SalesOrders', 'SO-88200')).toMatchObject({ FulfilmentHold: true, FulfilmentHoldBy: 'credit-desk' });
  }, 60_000);

  it('does not release anything when the ERP refused the pause', async () => {
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88300', Status: 'Released', FulfilmentHold: false });
    sim.failNext(1, 422, { match: 'FulfilmentHold' }); // the pause is the next fulfilment-hold request
    const caseId = await shortfallOn('SO-88300');
    expect(await settledAction(caseId, 'erp.pauseFulfilment')).toMatchObject({ status: 'failed', attempts: 1 });
    // Somebody pauses the order by hand meanwhile; the case's resolve must not lift that hold.
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88300', FulfilmentHold: true, FulfilmentHoldBy: 'planner' });

    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'checked by hand' } })).status).toBe(200);
    const resume = await settledAction(caseId, 'erp.resumeFulfilment');
    expect(resume).toMatchObject({ status: 'done', result: { changed: false } });
    expect(resume.result.summary).toMatch(/^left as found: erp\.pauseFulfilment was refused \(pausing the fulfilment of order SO-88300: .*\), so this case has nothing to undo$/);
    expect(sim.log.filter((l) => l.method === 'DELETE' && l.path.includes('SO-88300'))).toHaveLength(0);
    expect(sim.data.get('SalesOrders', 'SO-88300')).toMatchObject({ FulfilmentHold: true, FulfilmentHoldBy: 'planner' });
  }, 60_000);

  it('resumes only after a pause that is still being retried has settled, without using up its own attempts', async () => {
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88400', Status: 'Released', FulfilmentHold: false });
    // The ERP answers the first three pause requests with 503: the action queue retries (1 s, 2 s, 4 s).
    sim.failNext(3, 503, { match: 'FulfilmentHold' });
    const caseId = await shortfallOn('SO-88400');
    // Resolved at once, while the pause is still being retried: the resume must wait for it.
    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'resolved at once' } })).status).toBe(200);
    const resume = await waitFor(async () => ((await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[]).find((a) => a.action === 'erp.resumeFulfilment' && a.status === 'done'), 75_000, 'the resume done');
    expect(resume).toMatchObject({ attempts: 1, result: { summary: 'fulfilment of order SO-88400 resumed' } });
    const pause = ((await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[]).find((a) => a.action === 'erp.pauseFulfilment');
    expect(pause).toMatchObject({ status: 'done', attempts: 4, result: { changed: true } });
    // The ERP saw the pause placed, then lifted: the order is not left paused.
    const writes = sim.log.filter((l) => l.path.includes('SO-88400') && l.path.includes('FulfilmentHold')).map((l) => `${l.method} ${l.status}`);
    expect(writes).toEqual(['POST 503', 'POST 503', 'POST 503', 'POST 201', 'DELETE 200']);
    expect(sim.data.get('SalesOrders', 'SO-88400')).toMatchObject({ FulfilmentHold: false });
  }, 100_000);

  it('gives up waiting after a day for a pause that never settles: the resume fails visibly and lifts nothing', async () => {
    sim.data.upsert('SalesOrders', { OrderId: 'SO-88500', Status: 'Released', FulfilmentHold: false });
    const caseId = await shortfallOn('SO-88500');
    expect(await settledAction(caseId, 'erp.pauseFulfilment')).toMatchObject({ status: 'done', result: { changed: true } });
    // A run stuck for good (a bug, or a row edited by hand): the pause shows as running and has no job.
    await world.db.query(`UPDATE case_actions SET status = 'running', completed_at = NULL, updated_at = now() WHERE case_id = $1 AND action = 'erp.pauseFulfilment'`, [caseId]);
    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'resolved' } })).status).toBe(200);
    const resumeOf = async () => ((await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[]).find((a) => a.action === 'erp.resumeFulfilment');
    const waiting = await waitFor(async () => ((await resumeOf())?.result?.waiting ? await resumeOf() : undefined), 20_000, 'the resume waiting');
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, result: { summary: 'waiting for erp.pauseFulfilment on this case to settle first', waitingSince: expect.any(String) } });
    const since = waiting.result.waitingSince;
    const dayBefore = (iso: string) => new Date(Date.parse(iso) - 24 * 3_600_000 - 60_000).toISOString();
    const u = new URL(REDIS_URL);
    const q = new Queue('case-actions', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: world.prefix });
    const lookAgain = async () => {
      const [{ updated_at: before }] = (await world.db.query(`SELECT updated_at FROM case_actions WHERE case_id = $1 AND action = 'erp.resumeFulfilment'`, [caseId])).rows;
      for (const j of await q.getDelayed()) await j.promote().catch(() => undefined);
      await waitFor(async () => ((await world.db.query(`SELECT updated_at FROM case_actions WHERE case_id = $1 AND action = 'erp.resumeFulfilment' AND updated_at > $2`, [caseId, before])).rows[0]), 20_000, 'the resume looked again');
    };
    try {
      // The release has waited a day (its start moved back instead), but the pause was touched just now
      // (as after a long outage of the workers, when it gets its turn first): the release waits on, and
      // keeps when its wait began.
      await world.db.query(`UPDATE case_actions SET result = jsonb_set(result, '{waitingSince}', to_jsonb($2::text)) WHERE case_id = $1 AND action = 'erp.resumeFulfilment'`, [caseId, dayBefore(since)]);
      await lookAgain();
      expect(await waitFor(async () => ((await resumeOf())?.status === 'pending' ? await resumeOf() : undefined), 20_000, 'the resume pending again'))
        .toMatchObject({ attempts: 0, result: { waiting: true, waitingSince: dayBefore(since) } });
      // The pause untouched for a day as well: stuck. The next look gives up instead of waiting again.
      await world.db.query(`UPDATE case_actions SET updated_at = $2 WHERE case_id = $1 AND action = 'erp.pauseFulfilment'`, [caseId, dayBefore(since)]);
      await lookAgain();
    } finally {
      await q.close();
    }
    const resume = await settledAction(caseId, 'erp.resumeFulfilment');
    expect(resume).toMatchObject({ status: 'failed', attempts: 1 });
    expect(resume.result.summary).toMatch(/^gave up waiting for erp\.pauseFulfilment on this case to settle: still running, unchanged since .*, after waiting since .* \(over 24 h\); check that action/);
    expect(sim.log.filter((l) => l.method === 'DELETE' && l.path.includes('SO-88500'))).toHaveLength(0);
    expect(sim.data.get('SalesOrders', 'SO-88500')).toMatchObject({ FulfilmentHold: true });
  }, 60_000);
});
