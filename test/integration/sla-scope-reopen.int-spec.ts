import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { auditActions, newestDefaultVersion, ringAlarms, waitForAudit } from '../support/sla-harness.js';
import { Clock, ManualClock } from '../../src/sla/clock.js';

/**
 * SLA clocks follow the policy that decided the case: the site-dal2 overlay's own `slas` / `calendars`
 * (both overridable in default) for its site, the enterprise's elsewhere, to the last alarm. And a case
 * re-opened by a recurrence runs again: fresh clocks, its rule's tasks back with fresh task clocks.
 * Also: a rule's `extraTeams` are on the case it opens.
 */
describe('SLA clocks by policy scope, and for re-opened cases', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let clock: ManualClock;

  beforeAll(async () => {
    world = newWorld({ HUB_TEST_CLOCK: 'true', HUB_POLICIES_DIR: overlayWithOwnSla() });
    hub = await startInProcess(world);
    clock = hub.app.get(Clock) as ManualClock;
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const slas = async (id: string) => (await api(hub.url, 'GET', `/v1/cases/${id}/slas`)).body.items as any[];
  const caseOf = (order: string) =>
    waitFor(async () => {
      const { rows } = await world.db.query(`SELECT c.id FROM cases c WHERE c.correlation_key = $1 AND EXISTS (SELECT 1 FROM sla_clocks k WHERE k.case_id = c.id)`, [`order:${order}`]);
      return rows[0]?.id as string | undefined;
    }, 15000, `case with clocks for ${order}`);

  it("a case at the overlay's site runs under the overlay's SLA and calendar, one elsewhere under the enterprise's", async () => {
    // Monday 04:00 America/Chicago: the enterprise calendar opens at 07:00, the overlay's DAL2 shifts at 05:00.
    clock.set('2026-12-07T10:00:00Z');
    const dal2 = { warehouse: { site: 'DAL2', businessUnit: 'south' } };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-SCOPE-DAL2', 'HX-2210', dal2))).status).toBe(202);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-SCOPE-RNO1'))).status).toBe(202);
    const atDal2 = await caseOf('SO-SCOPE-DAL2');
    const atRno1 = await caseOf('SO-SCOPE-RNO1');

    const ack = async (id: string) => (await slas(id)).find((c) => c.kind === 'acknowledge' && !c.taskId);
    // Overlay: acknowledge in 45 business minutes from 05:00 in its calendar.
    expect(await ack(atDal2)).toMatchObject({ sla: 'fulfilment-risk', calendar: 'dal2-shifts', scope: 'site-dal2', targetMs: 45 * 60_000, dueAt: '2026-12-07T11:45:00.000Z' });
    // Enterprise: critical → 30 business minutes from the 07:00 opening.
    expect(await ack(atRno1)).toMatchObject({ sla: 'fulfilment-risk', calendar: 'us-central-business', scope: null, targetMs: 30 * 60_000, dueAt: '2026-12-07T13:30:00.000Z' });

    // The rule's extra teams are on the case from opening, and in its routing explanation.
    const rno1 = (await api(hub.url, 'GET', `/v1/cases/${atRno1}`)).body;
    expect(rno1).toMatchObject({ ownerTeam: 'warehouse-ops', extraTeams: ['customer-service'] });
    expect(rno1.routing.reason).toMatch(/; extra teams customer-service$/);

    // The alarms count in the clock's own calendar too: at 05:40 (100 real minutes) not breached, at 05:50 breached.
    clock.set('2026-12-07T11:40:00Z');
    await ringAlarms(world);
    await waitForAudit(world, atDal2, 'sla.warning', 2, (a) => a.clock.kind === 'acknowledge');
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditActions(world, atDal2)).filter((a) => a.action === 'sla.breached')).toHaveLength(0);
    clock.set('2026-12-07T11:50:00Z');
    await ringAlarms(world);
    await waitForAudit(world, atDal2, 'sla.breached', 1, (a) => a.clock.kind === 'acknowledge');
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditActions(world, atRno1)).filter((a) => a.action.startsWith('sla.'))).toHaveLength(0);
  });

  it('gives a re-opened case fresh clocks and its rule tasks again, keeping the earlier round as it ended', async () => {
    clock.set('2026-12-08T15:00:00Z'); // Tuesday 09:00 America/Chicago
    const strategic = { order: { number: 'SO-REOPEN-1', customer: 'C-2001', customerTier: 'strategic', currency: 'USD' } };
    expect((await postWebhook(hub.url, world, pickShortfall('SO-REOPEN-1', 'HX-2210', strategic))).status).toBe(202);
    const id = await caseOf('SO-REOPEN-1');
    expect((await api(hub.url, 'POST', `/v1/cases/${id}/acknowledge`)).status).toBe(200);
    const tasks = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    for (const name of ['replenishment-review', 'customer-communication']) {
      const t = tasks.find((x) => x.task === name).id;
      expect((await api(hub.url, 'POST', `/v1/cases/${id}/tasks/${t}/complete`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } })).status).toBe(200);
    }
    expect((await api(hub.url, 'GET', `/v1/cases/${id}`)).body.status).toBe('resolved');
    const first = await slas(id);
    expect(first.every((c) => c.status === 'stopped')).toBe(true);

    // Two business hours later the shortfall recurs (within the re-open window): the case re-opens.
    clock.set('2026-12-08T17:00:00Z');
    expect((await postWebhook(hub.url, world, pickShortfall('SO-REOPEN-1', 'HX-2210', { ...strategic, reason: 'short again' }))).status).toBe(202);
    const again = await waitFor(async () => {
      const c = (await slas(id)).filter((k) => k.status === 'running');
      return c.length >= 3 ? c : undefined;
    }, 15000, 'fresh clocks on the re-opened case');
    const kase = (await api(hub.url, 'GET', `/v1/cases/${id}`)).body;
    expect(kase).toMatchObject({ status: 'open', reopenCount: 1 });
    // Strategic: acknowledge 15 min, resolve 4 h, the customer-communication task's clock 2 h; all from the re-opening.
    expect(again.map((c) => [c.kind, c.taskId ? 'task' : 'case', c.targetMs / 60_000, c.startedAt]).sort()).toEqual([
      ['acknowledge', 'case', 15, '2026-12-08T17:00:00.000Z'], ['resolve', 'case', 240, '2026-12-08T17:00:00.000Z'], ['resolve', 'task', 120, '2026-12-08T17:00:00.000Z'],
    ]);
    // The earlier round keeps its outcome.
    const all = await slas(id);
    expect(all.filter((c) => c.status === 'stopped').map((c) => c.id).sort()).toEqual(first.map((c) => c.id).sort());
    // Done tasks are open again; the optional one (never done) stays open.
    const after = (await api(hub.url, 'GET', `/v1/cases/${id}/tasks`)).body.items as any[];
    expect(after.map((t) => [t.task, t.status]).sort()).toEqual([
      ['customer-communication', 'open'], ['margin-impact', 'open'], ['replenishment-review', 'open'],
    ]);
    expect((await auditActions(world, id)).filter((a) => a.action === 'case.task.reopened').map((a) => a.after.task).sort()).toEqual(['customer-communication', 'replenishment-review']);
    // The rule's notify action runs again for the new round, under a key of that round; each round's once.
    const { rows } = await world.db.query(`SELECT idempotency_key, status FROM case_actions WHERE case_id = $1 ORDER BY created_at`, [id]);
    expect(rows).toHaveLength(2);
    expect(rows[1].idempotency_key).toBe(`${rows[0].idempotency_key}:r1`);
    expect(rows.map((r: any) => r.status)).toEqual(['done', 'done']);
    expect((await auditActions(world, id)).filter((a) => a.action === 'case.notified')).toHaveLength(2);
  });
});

/** policies/ with site-dal2 giving DAL2 its own calendar and fulfilment-risk SLA (overlay `set`, overridable in default). */
function overlayWithOwnSla(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-policies-'));
  cpSync(path.resolve('policies'), dir, { recursive: true });
  const enterpriseFile = path.join(dir, 'default', newestDefaultVersion(), 'policy.json');
  const enterprise = JSON.parse(readFileSync(enterpriseFile, 'utf8'));
  // Customer service works priority shortfalls next to warehouse operations (`then.extraTeams`).
  enterprise.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.extraTeams = ['customer-service'];
  writeFileSync(enterpriseFile, JSON.stringify(enterprise));
  const sla = structuredClone(enterprise.slas.find((s: any) => s.id === 'fulfilment-risk'));
  sla.calendar = 'dal2-shifts';
  sla.clocks.find((c: any) => c.kind === 'acknowledge').targets = [];
  sla.clocks.find((c: any) => c.kind === 'acknowledge').target = 'PT45M';
  const file = path.join(dir, 'site-dal2', '1.0.0', 'policy.json');
  const overlay = JSON.parse(readFileSync(file, 'utf8'));
  const days = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['05:00', '23:00']]]));
  overlay.set['calendars.dal2-shifts'] = { timeZone: 'America/Chicago', hours: days };
  overlay.set['slas.fulfilment-risk'] = sla;
  writeFileSync(file, JSON.stringify(overlay));
  return dir;
}
