import { api, newWorld, pickShortfall, postWebhook, startInProcess, type TestWorld } from '../support/hub-harness.js';
import { auditActions, openCaseId, policiesWith, ringAlarms, waitForAudit } from '../support/sla-harness.js';
import { sentence } from '../../src/cases/case-sentences.js';
import { Clock, ManualClock } from '../../src/sla/clock.js';

/**
 * SLA clocks with a controllable clock (HUB_TEST_CLOCK): the shipped policy default@2.1.0, its
 * us-central-business calendar, real BullMQ alarms rung by moving time and promoting the delayed jobs.
 */
describe('SLA clocks, escalation, pause/resume and tasks', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let clock: ManualClock;

  beforeEach(async () => {
    world = newWorld({ HUB_TEST_CLOCK: 'true' });
    hub = await startInProcess(world);
    clock = hub.app.get(Clock) as ManualClock;
    clock.set('2026-12-07T15:00:00Z'); // Monday 09:00 America/Chicago
  });
  afterEach(async () => {
    await hub?.close();
    await world?.drop();
  });

  const slas = async (id: string) => (await api(hub.url, 'GET', `/v1/cases/${id}/slas`)).body.items as any[];
  const move = async (to: string) => {
    clock.set(to);
    await ringAlarms(world);
  };

  it('names the lead the owner team declares in a team-lead escalation (event, audit and timeline)', async () => {
    await hub.close();
    await world.drop();
    const dir = policiesWith((p) => {
      for (const t of p.teams) t.lead = { name: `Lead of ${t.id}`, contact: `${t.id}-lead@example.com` };
    });
    world = newWorld({ HUB_TEST_CLOCK: 'true', HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    clock = hub.app.get(Clock) as ManualClock;
    clock.set('2026-12-07T15:00:00Z');
    expect((await postWebhook(hub.url, world, pickShortfall('SO-LEAD-1'))).status).toBe(202);
    const id = await openCaseId(world);
    const team = (await api(hub.url, 'GET', `/v1/cases/${id}`)).body.ownerTeam;
    await move('2026-12-07T15:16:00Z');
    await waitForAudit(world, id, 'case.escalated', 1, (a) => a.to === 'team-lead');
    const lead = { name: `Lead of ${team}`, contact: `${team}-lead@example.com` };
    const entry = (await auditActions(world, id)).find((a) => a.action === 'case.escalated')!;
    expect(entry.after).toMatchObject({ to: 'team-lead', lead });
    const { rows } = await world.db.query(`SELECT payload FROM outbox_events WHERE case_id = $1 AND type = 'case.escalated'`, [id]);
    expect(rows[0].payload.after).toMatchObject({ lead });
    expect(sentence({ ...entry, actorType: 'system' } as never)).toContain(`Escalated to the team lead of ${team}, Lead of ${team} (${team}-lead@example.com)`);
  });

  it('warns, breaches and escalates on business time; acknowledge stops its clock; pause keeps the time left', async () => {
    expect((await postWebhook(hub.url, world, pickShortfall('SO-SLA-1'))).status).toBe(202);
    const id = await openCaseId(world);
    let clocks = await slas(id);
    const ack = clocks.find((c) => c.kind === 'acknowledge' && !c.taskId);
    const res = clocks.find((c) => c.kind === 'resolve' && !c.taskId);
    // priority tier, critical: acknowledge 30 business minutes, resolve 8 business hours.
    expect(ack).toMatchObject({ sla: 'fulfilment-risk', calendar: 'us-central-business', status: 'running', targetMs: 30 * 60_000, dueAt: '2026-12-07T15:30:00.000Z' });
    expect(res).toMatchObject({ targetMs: 8 * 3600_000, dueAt: '2026-12-07T23:00:00.000Z' });
    expect(clocks.filter((c) => c.taskId)).toHaveLength(0); // the priority-tier rule opens no tasks

    // 10 minutes in (33 %): nothing fires; the rung alarm goes back to waiting.
    await move('2026-12-07T15:10:00Z');
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditActions(world, id)).filter((a) => a.action.startsWith('sla.'))).toHaveLength(0);

    // 16 minutes (53 %): warning at 50 % and the first escalation (team lead).
    await move('2026-12-07T15:16:00Z');
    await waitForAudit(world, id, 'sla.warning', 1, (a) => a.clock.kind === 'acknowledge' && a.at === 50);
    await waitForAudit(world, id, 'case.escalated', 1, (a) => a.to === 'team-lead' && a.escalationLevel === 1);
    // The shipped policy declares no leads: the escalation says so rather than naming nobody silently.
    expect((await auditActions(world, id)).find((a) => a.action === 'case.escalated')!.after.lead).toBeNull();

    expect((await api(hub.url, 'POST', `/v1/cases/${id}/acknowledge`)).status).toBe(200);
    clocks = await slas(id);
    expect(clocks.find((c) => c.id === ack.id)).toMatchObject({ status: 'stopped', outcome: 'met', breached: false });

    // Paused at 15:16 (16 business minutes used) while waiting on the customer; three days pass.
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/pause`, { body: { waitingOn: 'customer' } })).status).toBe(200);
    await move('2026-12-07T15:20:00Z');
    expect((await slas(id)).find((c) => c.id === res.id)).toMatchObject({ status: 'paused', dueAt: null });
    await move('2026-12-10T15:20:00Z');
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/pause`, { body: { waitingOn: 'nobody' } })).status).toBe(400);
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/resume`, { body: {} })).status).toBe(200);
    // 7h44m left from Thursday 09:20 CST.
    const resumed = (await slas(id)).find((c) => c.id === res.id);
    expect(resumed.status).toBe('running');
    expect(resumed.dueAt).toBe('2026-12-10T23:04:00.000Z');

    // Past 100 %: the warnings at 50/75 %, the breach and the escalation to sales-ops and procurement, at once.
    await move('2026-12-10T23:05:00Z');
    await waitForAudit(world, id, 'sla.breached', 1, (a) => a.clock.id === res.id);
    const kase = (await api(hub.url, 'GET', `/v1/cases/${id}`)).body;
    expect(kase.escalationLevel).toBe(2);
    expect(kase.extraTeams.sort()).toEqual(['procurement', 'sales-ops']);
    expect(kase.slas.find((c: any) => c.id === res.id)).toMatchObject({ breached: true });
    expect(kase.slas.find((c: any) => c.id === res.id).history.map((h: any) => `${h.kind}@${h.at}`)).toEqual([
      'warning@50', 'escalation@50', 'warning@75', 'breach@100', 'escalation@100', 'escalation@100',
    ]);

    // 150 %: 4 more business hours (Thursday closes at 18:00 CST, Friday opens 07:00) → Friday 10:04 CST.
    await move('2026-12-11T16:03:00Z');
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditActions(world, id)).filter((a) => a.action === 'case.escalated' && a.after.to === 'operations-control')).toHaveLength(0);
    await move('2026-12-11T16:05:00Z');
    await waitForAudit(world, id, 'case.escalated', 1, (a) => a.to === 'operations-control' && a.escalationLevel === 3);
    const { rows: events } = await world.db.query(`SELECT type, count(*)::int AS n FROM outbox_events WHERE case_id = $1 AND (type LIKE 'sla.%' OR type = 'case.escalated') GROUP BY type ORDER BY type`, [id]);
    // acknowledge: warning@50 and team lead; resolve: warnings 50/75, breach; team lead, sales-ops, procurement, operations-control.
    expect(events).toEqual([{ type: 'case.escalated', n: 5 }, { type: 'sla.breached', n: 1 }, { type: 'sla.warning', n: 3 }]);
    // Ringing again changes nothing: every threshold fires once.
    const before = (await auditActions(world, id)).length;
    await ringAlarms(world);
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditActions(world, id)).filter((a) => a.action === 'sla.breached' && a.after.clock.id === res.id)).toHaveLength(1);
    expect((await auditActions(world, id)).length).toBe(before);
  });

  it("takes the resolve due time from the order's requested ship date (wms-webhook 1.2.0), 2 business hours before it", async () => {
    const order = { number: 'SO-SHIP-1', customer: 'C-1007', customerTier: 'priority', currency: 'USD', requestedShipDate: '2026-12-08T12:00:00-06:00' };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-SHIP-1', 'HX-2210', { order }))).status).toBe(202);
    const id = await openCaseId(world);
    const res = (await slas(id)).find((c) => c.kind === 'resolve' && !c.taskId);
    // Monday 09:00 to Tuesday 12:00 CST is 14 business hours (9 + 5); less 2 business hours: due Tuesday 10:00 CST.
    expect(res).toMatchObject({ sla: 'fulfilment-risk', targetMs: 12 * 3600_000, dueAt: '2026-12-08T16:00:00.000Z' });
    expect(res.basis).toBe('requestedShipDate 2026-12-08T12:00:00-06:00 minus 2h of business time: 12h of business time left');
  });

  it('opens parallel tasks; the case resolves when its required tasks are done', async () => {
    const strategic = { order: { number: 'SO-TASKS-1', customer: 'C-2001', customerTier: 'strategic', currency: 'USD' } };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-TASKS-1', 'HX-2210', strategic))).status).toBe(202);
    const id = await openCaseId(world);
    // strategic: acknowledge in 15 business minutes, resolve in 4 business hours; the task's customer-comms clock 2 hours.
    const clocks0 = await slas(id);
    expect(clocks0.map((c) => [c.kind, c.taskId ? 'task' : 'case', c.targetMs / 60_000])).toEqual([
      ['acknowledge', 'case', 15], ['resolve', 'case', 240], ['resolve', 'task', 120],
    ]);
    const tasks = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    expect(tasks.map((t) => [t.task, t.team, t.required, t.status])).toEqual([
      ['customer-communication', 'customer-service', true, 'open'],
      ['margin-impact', 'finance-ar', false, 'open'],
      ['replenishment-review', 'warehouse-ops', true, 'open'],
    ]);
    const refused = await api(hub.url, 'POST', `/v1/cases/${id}/resolve`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/2 open required task\(s\): customer-communication \(customer-service\), replenishment-review \(warehouse-ops\)/);

    const t = (name: string) => tasks.find((x) => x.task === name).id;
    const first = await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${t('replenishment-review')}/complete`, { body: { note: 'alternate stock in RNO2' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ caseResolved: false, task: { status: 'done', note: 'alternate stock in RNO2' } });
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${t('replenishment-review')}/complete`, { body: {} })).status).toBe(409);

    const last = await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${t('customer-communication')}/complete`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } });
    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({ caseResolved: true, case: { status: 'resolved', rootCause: 'INVENTORY_SYNC_DELAY' } });
    const clocks = await slas(id);
    expect(clocks.every((c) => c.status === 'stopped')).toBe(true);
    expect(clocks.find((c) => c.taskId === t('customer-communication'))).toMatchObject({ outcome: 'met' });

    // The rule's notify action ran once: an outbox event and an audit entry for customer service.
    const actions = await waitForDone(id);
    expect(actions).toEqual([expect.objectContaining({ action: 'notify', status: 'done', attempts: 1 })]);
    const { rows } = await world.db.query(`SELECT team, payload FROM outbox_events WHERE case_id = $1 AND type = 'case.notified'`, [id]);
    expect(rows).toEqual([expect.objectContaining({ team: 'customer-service' })]);
  });

  async function waitForDone(id: string) {
    for (let i = 0; i < 100; i++) {
      const items = (await api(hub.url, 'GET', `/v1/cases/${id}/actions`)).body.items as any[];
      if (items.length && items.every((a) => a.status === 'done' || a.status === 'failed')) return items;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('actions did not finish');
  }
});
