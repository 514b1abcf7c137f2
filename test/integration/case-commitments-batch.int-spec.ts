import { newWorld, pickShortfall, postWebhook, spawnHub, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { stop } from '../support/processes.js';

const N = 30;

/**
 * Many new cases in one pipeline transaction, each with its rule's tasks and actions: they are written
 * for the whole batch at once (one INSERT of tasks, one of actions), and every case still gets its own.
 * Then many cases cleared in one transaction: their clocks stop with one lock, one update and one mirror
 * for the batch. The api process accepts everything first; the worker starts afterwards and its first
 * scooping round takes the waiting messages together.
 */
describe('commitments of a batch of cases: tasks and actions of new ones, clocks of cleared ones', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let worker: ReturnType<typeof spawnHub> | undefined;

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world, { HUB_ROLES: 'api,scheduler' });
  });
  afterAll(async () => {
    if (worker) await stop(worker, 'SIGTERM');
    await hub?.close();
    await world?.drop();
  });

  it('gives each new case of a batch its own tasks, task clocks, done notification and audit entries, and stops every clock of a batch of cleared cases', async () => {
    const orders = Array.from({ length: N }, (_, i) => `SO-BATCH-${i}`);
    for (const o of orders) {
      const strategic = { order: { number: o, customer: 'C-2001', customerTier: 'strategic', currency: 'USD' } };
      expect((await postWebhook(hub.url, world, pickShortfall(o, 'HX-2210', strategic))).status).toBe(202);
    }
    worker = spawnHub(world, { HUB_ROLES: 'worker' });
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM cases`)).rows[0].n === N || undefined, 30000, `${N} cases`);
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE status = 'routed'`)).rows[0].n === N || undefined, 30000, 'every message routed');

    // Several messages shared a transaction (now() is the transaction's start, so they share processed_at).
    const { rows: txs } = await world.db.query(`SELECT count(DISTINCT processed_at)::int AS n FROM inbound_messages`);
    expect(txs[0].n).toBeLessThan(N);

    const { rows } = await world.db.query(
      `SELECT c.id, c.correlation_key,
              (SELECT array_agg(t.spec_id ORDER BY t.spec_id) FROM case_tasks t WHERE t.case_id = c.id) AS tasks,
              (SELECT count(*)::int FROM sla_clocks k JOIN case_tasks t ON t.id = k.task_id WHERE t.case_id = c.id AND k.case_id = c.id) AS task_clocks,
              (SELECT array_agg(a.action || ':' || a.status ORDER BY a.action) FROM case_actions a WHERE a.case_id = c.id) AS actions,
              (SELECT count(*)::int FROM audit_events e WHERE e.entity_type = 'case' AND e.entity_id = c.id::text AND e.action = 'case.task.opened') AS task_audit
         FROM cases c ORDER BY c.correlation_key`,
    );
    expect(rows.map((r) => r.correlation_key).sort()).toEqual(orders.map((o) => `order:${o}`).sort());
    const tasks = rows[0].tasks as string[];
    expect(tasks.length).toBeGreaterThan(1);
    for (const r of rows) {
      expect({ key: r.correlation_key, tasks: r.tasks, actions: r.actions, audit: r.task_audit }).toEqual({ key: r.correlation_key, tasks, actions: ['notify:done'], audit: tasks.length });
      expect(r.task_clocks).toBeGreaterThan(0);
    }
    // Task ids are unique across the batch (no row was ignored as a duplicate of another case's).
    const { rows: all } = await world.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM case_tasks`);
    expect(all[0]).toEqual({ n: N * tasks.length, d: N * tasks.length });

    // The WMS reports every shortfall made good, again while no worker runs: one transaction clears many
    // cases, and every clock of every case stops (case clocks met, the open tasks' clocks cancelled).
    await stop(worker, 'SIGTERM');
    for (const o of orders) {
      const clear = JSON.stringify({
        type: 'pick.shortfall_cleared', occurredAt: new Date().toISOString(), warehouse: { site: 'RNO1', businessUnit: 'west' },
        order: { number: o, customer: 'C-2001', customerTier: 'strategic' }, line: { number: 1, sku: 'HX-2210' }, resolution: 'found in overflow and picked',
      });
      expect((await postWebhook(hub.url, world, clear)).status).toBe(202);
    }
    worker = spawnHub(world, { HUB_ROLES: 'worker' });
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM cases WHERE status = 'resolved'`)).rows[0].n === N || undefined, 30000, `${N} cases resolved`);
    const { rows: clearTx } = await world.db.query(
      `SELECT count(*)::int AS messages, count(DISTINCT processed_at)::int AS txs FROM inbound_messages m
        WHERE EXISTS (SELECT 1 FROM exceptions e WHERE e.message_id = m.id AND e.code = 'WAREHOUSE.PICK_SHORTFALL_CLEARED')`,
    );
    expect(clearTx[0].messages).toBe(N);
    expect(clearTx[0].txs).toBeLessThan(N);
    const { rows: clocks } = await world.db.query(
      `SELECT (task_id IS NULL) AS of_case, status, outcome, count(DISTINCT case_id)::int AS cases FROM sla_clocks GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    expect(clocks).toEqual([
      { of_case: false, status: 'stopped', outcome: 'cancelled', cases: N },
      { of_case: true, status: 'stopped', outcome: 'met', cases: N },
    ]);
    const { rows: mirrored } = await world.db.query(`SELECT count(*)::int AS n FROM cases WHERE sla_breached IS NOT TRUE AND resolve_due_at IS NOT NULL`);
    expect(mirrored[0].n).toBe(N);
  }, 90_000);
});
