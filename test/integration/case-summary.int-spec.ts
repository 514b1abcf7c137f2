import { randomUUID } from 'node:crypto';
import { api, newWorld, pickShortfall, postWebhook, startInProcess, type TestWorld } from '../support/hub-harness.js';
import { openCaseId, ringAlarms, waitForAudit } from '../support/sla-harness.js';
import { Clock, ManualClock } from '../../src/sla/clock.js';

/**
 * GET /v1/cases/{id}/summary: the timeline in sentences for everything that happens to a case
 * (SLA warnings and breaches, escalations, pause/resume, tasks, actions), and the SLA-breach risk
 * from the SLA clocks of comparable past cases. Time moves with HUB_TEST_CLOCK.
 */
describe('case summary: timeline sentences and SLA-breach risk from SLA history', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let clock: ManualClock;

  beforeAll(async () => {
    world = newWorld({ HUB_TEST_CLOCK: 'true' });
    hub = await startInProcess(world);
    clock = hub.app.get(Clock) as ManualClock;
    clock.set('2026-12-07T15:00:00Z'); // Monday 09:00 America/Chicago
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const summary = async (id: string) => (await api(hub.url, 'GET', `/v1/cases/${id}/summary`)).body;
  const move = async (to: string) => {
    clock.set(to);
    await ringAlarms(world);
  };
  /** A past case with one stopped clock that used `fraction` of its target (over 1: breached). */
  const past = async (o: { kind: string; fraction: number; severity?: string; site?: string | null; code?: string }) => {
    const id = randomUUID();
    await world.db.query(
      `INSERT INTO cases (id, status, correlation_key, title, code, category, severity, owner_team, site, opened_at, updated_at, resolved_at, routing)
       VALUES ($1::uuid, 'resolved', 'hist:' || $1::text, 'old', $2, 'WAREHOUSE', $3, 'warehouse-ops', $4, '2026-11-20T15:00:00Z', '2026-11-21T15:00:00Z', '2026-11-21T15:00:00Z', '{}')`,
      [id, o.code ?? 'WAREHOUSE.PICK_SHORTFALL', o.severity ?? 'critical', o.site === undefined ? 'RNO1' : o.site],
    );
    const target = 4 * 3600_000;
    await world.db.query(
      `INSERT INTO sla_clocks (id, case_id, kind, sla_id, calendar_id, status, started_at, target_ms, consumed_ms, thresholds, fired, basis, stopped_at, outcome, breached_at)
       VALUES ($1, $2, $3, 'fulfilment-risk', 'us-central-business', 'stopped', '2026-11-20T15:00:00Z', $4, $5, '[]', '[]', 'history', '2026-11-21T15:00:00Z', $6, $7)`,
      [randomUUID(), id, o.kind, target, Math.round(target * o.fraction), o.fraction > 1 ? 'breached' : 'met', o.fraction > 1 ? '2026-11-21T10:00:00Z' : null],
    );
  };

  it('scores the open clocks from comparable SLA history, more as a clock runs, 1 once breached; tells every step in sentences', async () => {
    const strategic = { order: { number: 'SO-RISK-1', customer: 'C-3001', customerTier: 'strategic', currency: 'USD' } };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-RISK-1', 'HX-2210', strategic))).status).toBe(202);
    const id = await openCaseId(world);

    // No history: no score, and each open case clock says why.
    let risk = (await summary(id)).risk;
    expect(risk.score).toBeNull();
    expect(risk.clocks.map((k: any) => [k.kind, k.probability, k.basis.similar])).toEqual([['acknowledge', null, 0], ['resolve', null, 0]]);
    expect(risk.clocks[1].explanation).toBe(
      'Not enough history for the resolve clock (fulfilment-risk, 0 % of its target used): 0 resolve clocks of WAREHOUSE.PICK_SHORTFALL cases (critical, warehouse-ops) stopped in the last 90 days that ran at least as far (need 5).',
    );

    // History of critical shortfalls at RNO1: resolve clocks met at 10..45 %, 60 % and 70 % of their target, three breached.
    for (const fraction of [0.1, 0.2, 0.3, 0.4, 0.45, 0.6, 0.7, 1.2, 1.5, 2]) await past({ kind: 'resolve', fraction });
    // Acknowledgements were all met early, but at another site: too few at RNO1, so the site is dropped for them.
    for (let i = 0; i < 5; i++) await past({ kind: 'acknowledge', fraction: 0.2, site: 'DAL2' });
    // Not comparable: other severity, other site (for resolve, where RNO1 has enough), other code. All breached.
    for (let i = 0; i < 5; i++) {
      await past({ kind: 'resolve', fraction: 1.5, severity: 'standard' });
      await past({ kind: 'resolve', fraction: 1.5, site: 'DAL2' });
      await past({ kind: 'resolve', fraction: 1.5, code: 'WAREHOUSE.DAMAGED_GOODS' });
    }
    risk = (await summary(id)).risk;
    expect(risk.clocks).toEqual([
      expect.objectContaining({ kind: 'acknowledge', probability: 0, basis: { match: 'code, owner team, severity', similar: 5, breached: 0, breachRate: 0, days: 90 } }),
      expect.objectContaining({ kind: 'resolve', percent: 0, probability: 0.3, basis: { match: 'code, owner team, severity, site', similar: 10, breached: 3, breachRate: 0.3, days: 90 } }),
    ]);
    expect(risk.score).toBe(0.3);
    expect(risk.clocks[1].explanation).toBe(
      'The resolve clock (fulfilment-risk, 0 % of its target used): 3 of 10 resolve clocks of WAREHOUSE.PICK_SHORTFALL cases (critical, warehouse-ops, RNO1) stopped in the last 90 days that ran at least as far breached, so 30 %.',
    );

    expect((await api(hub.url, 'POST', `/v1/cases/${id}/acknowledge`)).status).toBe(200);
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/pause`, { body: { waitingOn: 'customer', note: 'asked about a split shipment' } })).status).toBe(200);
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/resume`, { body: {} })).status).toBe(200);

    // Two business hours in (50 % of the 4 h resolve target): the clocks met before 50 % no longer count.
    await move('2026-12-07T17:00:00Z');
    await waitForAudit(world, id, 'sla.warning', 1, (a) => a.clock.kind === 'resolve' && !a.clock.taskId && a.at === 50);
    risk = (await summary(id)).risk;
    expect(risk.clocks.map((k: any) => k.kind)).toEqual(['resolve']); // acknowledged: that clock stopped
    expect(risk.clocks[0]).toMatchObject({ percent: 50, probability: 0.6, basis: { similar: 5, breached: 3 } });
    expect(risk.score).toBe(0.6);

    // Past the target: 1, before and after the breach alarm rang.
    clock.set('2026-12-07T19:30:00Z');
    expect((await summary(id)).risk).toMatchObject({ score: 1, clocks: [{ kind: 'resolve', probability: 1, basis: null }] });
    await ringAlarms(world);
    await waitForAudit(world, id, 'sla.breached', 1, (a) => !a.clock.taskId);
    await waitForAudit(world, id, 'sla.breached', 1, (a) => !!a.clock.taskId);
    expect((await summary(id)).risk.score).toBe(1);

    const tasks = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    const task = (name: string) => tasks.find((t) => t.task === name).id;
    await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${task('replenishment-review')}/complete`, { body: { note: 'alternate stock in RNO2' } });
    await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${task('customer-communication')}/complete`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } });
    await waitForAudit(world, id, 'case.action.done');

    const s = await summary(id);
    expect(s.risk).toEqual({ score: null, clocks: [], explanation: 'The case is resolved: no open SLA clock to score.' });
    const texts: string[] = s.timeline.map((t: any) => t.text);
    expect(texts.filter((t) => / recorded [a-z]+\./.test(t) || /^The hub: /.test(t))).toEqual([]);
    expect(texts).toEqual(expect.arrayContaining([
      'A required task opened for customer-service: Tell the customer about the shortfall and the new ship date.',
      'An optional task opened for finance-ar: Check margin impact of expediting.',
      'The hub notified customer-service: "Pick shortfall on a priority order: contact the customer".',
      expect.stringMatching(/ paused the SLA clocks while waiting on the customer \(note: "asked about a split shipment"\)\.$/),
      expect.stringMatching(/ resumed the SLA clocks\.$/),
      expect.stringMatching(/^Warning: the resolution clock \(SLA fulfilment-risk\) has used 50 % of its target/),
      'SLA breached: the resolution clock (SLA fulfilment-risk) passed its target.',
      'SLA breached: the task clock of "Tell the customer about the shortfall and the new ship date" (SLA customer-comms) passed its target.',
      'Escalated to the team lead of warehouse-ops (the resolution clock (SLA fulfilment-risk) at 50 % of its target; escalation level 1).',
      expect.stringMatching(/^Escalated: sales-ops brought in alongside warehouse-ops \(the resolution clock/),
      expect.stringMatching(/ completed the task "Review replenishment and find alternate stock" \(warehouse-ops\) \(note: "alternate stock in RNO2"\)\.$/),
      expect.stringMatching(/ completed the last required task, "Tell the customer about the shortfall and the new ship date" \(customer-service\), which resolved the case \(root cause INVENTORY_SYNC_DELAY\)\.$/),
      'The hub ran the action notify of rule strategic-fulfilment-risk: notified customer-service.',
    ]));
  });
});
