import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { api, newWorld, pickShortfall, postWebhook, sleep, spawnHub, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

/**
 * Noise controls through the real pipeline (signed WMS webhooks, worker, PostgreSQL), with the
 * shipped policies: default@2.1.0 (repeat window 15 min, re-open within 24 h, no storm limit)
 * and the bu-returns overlay (storm over 20/min).
 */
describe('tiers and noise: grouping, repeats, storms, auto-resolve and re-open', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  let secondWorker: ChildProcess & { output: () => string };

  beforeAll(async () => {
    world = newWorld();
    // A second WMS connector: storms and repeats are per source.
    writeFileSync(
      path.join(world.connectorsDir, 'test-wms-2.json'),
      JSON.stringify({ id: 'test-wms-2', type: 'wms-webhook', name: 'Second WMS', config: { system: 'test-wms-2', mapping: 'wms-webhook' }, secrets: { signingSecret: world.secret } }),
    );
    hub = await startInProcess(world);
    // A second worker process on the same queue and database: the noise controls must hold across processes.
    secondWorker = spawnHub(world, { HUB_ROLES: 'worker', HUB_LOG_LEVEL: 'info' });
    await waitFor(async () => secondWorker.output().includes('exception hub started') || secondWorker.exitCode !== null, 60000, 'second worker up');
    await sleep(200);
  }, 90000);
  afterAll(async () => {
    secondWorker?.kill('SIGTERM');
    await hub?.close();
    await world?.drop();
  });

  const casesFor = async (key: string) => (await api(hub.url, 'GET', `/v1/cases?correlationKey=${encodeURIComponent(key)}`)).body.items as any[];
  const caseWhere = (key: string, ok: (c: any) => boolean, what: string) =>
    waitFor(async () => (await casesFor(key)).find(ok), 10000, what);
  const routed = (messageId: string) =>
    waitFor(async () => {
      const m = (await api(hub.url, 'GET', `/v1/messages/${messageId}`)).body;
      return ['routed', 'mapped', 'failed'].includes(m.status) ? m : undefined;
    }, 10000, `message ${messageId} processed`);
  const send = async (body: string, connectorId = 'test-wms') => {
    const r = await postWebhook(hub.url, world, body, {}, connectorId);
    expect(r.status).toBe(202);
    return routed(r.body.messageId);
  };
  const cleared = (order: string, sku = 'HX-2210') =>
    JSON.stringify({
      type: 'pick.shortfall_cleared',
      occurredAt: new Date().toISOString(),
      warehouse: { site: 'RNO1', businessUnit: 'west' },
      order: { number: order, customer: 'C-1007', customerTier: 'priority' },
      line: { number: 1, sku },
      resolution: 'found in overflow and picked',
    });

  it('counts an identical repeat on the stored exception instead of a new row or case', async () => {
    await send(pickShortfall('SO-REP-1', 'SKU-R', { seq: 1 }));
    const c = await caseWhere('order:SO-REP-1', () => true, 'case for SO-REP-1');
    await send(pickShortfall('SO-REP-1', 'SKU-R', { seq: 2 }));
    const third = await send(pickShortfall('SO-REP-1', 'SKU-R', { seq: 3 }));
    expect(third.status).toBe('routed');
    expect(third.exceptions).toEqual([]);

    const { rows } = await world.db.query(`SELECT id, occurrences FROM exceptions WHERE order_ref = 'SO-REP-1'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].occurrences).toBe(3);
    const detail = (await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body;
    expect(detail.exceptionCount).toBe(1);
    expect(detail.timeline.map((a: any) => a.action)).toEqual(['case.opened', 'case.routed', 'case.updated', 'case.updated']);
    const trail = (await api(hub.url, 'GET', `/v1/audit?entityType=exception&entityId=${rows[0].id}`)).body.items;
    expect(trail.map((a: any) => [a.action, a.after.occurrences ?? null])).toEqual([['exception.created', null], ['exception.repeated', 2], ['exception.repeated', 3]]);
    expect(await casesFor('order:SO-REP-1')).toHaveLength(1);

    // Another SKU on the same order is not a repeat: it joins the case as a new exception.
    await send(pickShortfall('SO-REP-1', 'SKU-OTHER', { seq: 4 }));
    expect((await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body.exceptionCount).toBe(2);
    // Nor is the same report from another connector: corroboration, stored and joined to the case.
    await send(pickShortfall('SO-REP-1', 'SKU-R', { seq: 5 }), 'test-wms-2');
    expect((await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body.exceptionCount).toBe(3);
    // Nor a report whose figures changed (the shortfall grew): news, stored and joined to the case.
    await send(pickShortfall('SO-REP-1', 'SKU-R', { seq: 6, line: { number: 1, sku: 'SKU-R', orderedQty: 10, pickedQty: 2, uom: 'EA', unitPrice: 12.5 } }));
    expect((await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body.exceptionCount).toBe(4);
    expect((await world.db.query(`SELECT occurrences FROM exceptions WHERE order_ref = 'SO-REP-1' AND sku = 'SKU-R' ORDER BY id`)).rows.map((r: any) => r.occurrences)).toEqual([3, 1, 1]);
  });

  it('counts a repeat within the window from the last sighting; after the window it is a new exception of the same open case', async () => {
    await send(pickShortfall('SO-WIN-1', 'SKU-W'));
    const c = await caseWhere('order:SO-WIN-1', () => true, 'case for SO-WIN-1');
    const rows = async () => (await world.db.query(`SELECT occurrences FROM exceptions WHERE order_ref = 'SO-WIN-1' ORDER BY id`)).rows.map((r: any) => r.occurrences);
    // The window (15 min in default@2.x) runs from the last sighting: 14 minutes ago still counts...
    await world.db.query(`UPDATE exceptions SET last_seen_at = now() - interval '14 minutes' WHERE order_ref = 'SO-WIN-1'`);
    await send(pickShortfall('SO-WIN-1', 'SKU-W'));
    expect(await rows()).toEqual([2]);
    // ... and moved last_seen_at to now. 16 minutes without a sighting: the window is over.
    await world.db.query(`UPDATE exceptions SET last_seen_at = now() - interval '16 minutes' WHERE order_ref = 'SO-WIN-1'`);
    const late = await send(pickShortfall('SO-WIN-1', 'SKU-W'));
    expect(late.exceptions).toHaveLength(1);
    expect(await rows()).toEqual([2, 1]);
    // The case is still open, so the new exception joins it (grouping by correlation key) rather than opening another.
    expect((await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body).toMatchObject({ status: 'open', exceptionCount: 2 });
    expect(await casesFor('order:SO-WIN-1')).toHaveLength(1);
    // And the next repeat within the window counts on the newest one.
    await send(pickShortfall('SO-WIN-1', 'SKU-W'));
    expect(await rows()).toEqual([2, 2]);
  });

  it('records info exceptions without a case, and groups standard ones per correlation key', async () => {
    const m = await send(cleared('SO-NOTHING-OPEN'));
    expect(m.status).toBe('mapped');
    expect(m.exceptions[0]).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL_CLEARED', severity: 'info', caseId: null });
    expect(await casesFor('order:SO-NOTHING-OPEN')).toHaveLength(0);
  });

  it('turns more than N of one code from one source within a minute into one incident case with its members', async () => {
    const variance = (sku: string) =>
      JSON.stringify({
        type: 'inventory.variance',
        occurredAt: new Date().toISOString(),
        warehouse: { site: 'SAV1', businessUnit: 'returns' },
        location: 'C-01-01',
        item: { sku, expectedQty: 10, countedQty: 7, uom: 'EA', unitCost: 3 },
        currency: 'USD',
        countId: `cnt-${sku}`,
      });
    // The bu-returns overlay sets stormPerMinute 20; 26 variances in parallel, as a scanner storm would send them.
    const posted = await Promise.all(Array.from({ length: 26 }, (_, i) => postWebhook(hub.url, world, variance(`STORM-${i}`))));
    expect(posted.every((p) => p.status === 202)).toBe(true);
    await Promise.all(posted.map((p) => routed(p.body.messageId)));

    const { rows } = await world.db.query(
      `SELECT correlation_key, kind, exception_count, title FROM cases WHERE code = 'WAREHOUSE.INVENTORY_VARIANCE' AND site = 'SAV1' ORDER BY kind, correlation_key`,
    );
    const single = rows.filter((r: any) => r.kind === 'case');
    const incidents = rows.filter((r: any) => r.kind === 'incident');
    expect(single).toHaveLength(20);
    expect(incidents).toEqual([
      { correlation_key: 'storm:test-wms:WAREHOUSE.INVENTORY_VARIANCE', kind: 'incident', exception_count: 6, title: 'Storm: WAREHOUSE.INVENTORY_VARIANCE from test-wms (over 20 a minute)' },
    ]);
    const [incident] = await casesFor('storm:test-wms:WAREHOUSE.INVENTORY_VARIANCE');
    const detail = (await api(hub.url, 'GET', `/v1/cases/${incident.id}`)).body;
    expect(detail.exceptions).toHaveLength(6);
    expect(new Set(detail.exceptions.map((e: any) => e.references.sku)).size).toBe(6);
    expect(detail.ownerTeam).toBe('warehouse-ops');

    // Per source: the same code from another connector in the same minute is not swallowed by the storm.
    const other = await Promise.all(Array.from({ length: 3 }, (_, i) => send(variance(`CALM-${i}`), 'test-wms-2')));
    expect(other.every((m) => m.status === 'routed')).toBe(true);
    const calm = (await world.db.query(`SELECT correlation_key, kind, exception_count FROM cases WHERE correlation_key LIKE 'inventory:SAV1:CALM-%' ORDER BY 1`)).rows;
    expect(calm).toEqual([0, 1, 2].map((i) => ({ correlation_key: `inventory:SAV1:CALM-${i}`, kind: 'case', exception_count: 1 })));
    expect(await casesFor('storm:test-wms-2:WAREHOUSE.INVENTORY_VARIANCE')).toHaveLength(0);
    // While the first source is still storming: one more of its variances joins the incident.
    await send(variance('STORM-26'));
    expect((await api(hub.url, 'GET', `/v1/cases/${incident.id}`)).body.exceptionCount).toBe(7);
  });

  it('auto-resolves a case when a later message clears the condition, and re-opens it when the cause recurs within the window', async () => {
    await send(pickShortfall('SO-CLR-1', 'SKU-C1'));
    const open = await caseWhere('order:SO-CLR-1', (c) => c.status === 'open', 'open case SO-CLR-1');
    const clearing = await send(cleared('SO-CLR-1', 'SKU-C1'));
    expect(clearing.exceptions[0]).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL_CLEARED', caseId: open.id });

    const resolved = (await api(hub.url, 'GET', `/v1/cases/${open.id}`)).body;
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolutionNote).toMatch(/^Auto-resolved: WAREHOUSE.PICK_SHORTFALL_CLEARED from test-wms \(message .*\) cleared the condition \(rule shortfall-cleared\)$/);
    expect(resolved.timeline.map((a: any) => a.action)).toEqual(['case.opened', 'case.routed', 'case.resolved']);

    await send(pickShortfall('SO-CLR-1', 'SKU-C2'));
    const again = (await api(hub.url, 'GET', `/v1/cases/${open.id}`)).body;
    expect(again).toMatchObject({ status: 'open', reopenCount: 1, exceptionCount: 2, resolvedAt: null });
    expect(again.timeline.map((a: any) => a.action)).toEqual(['case.opened', 'case.routed', 'case.resolved', 'case.reopened', 'case.updated']);
    expect(await casesFor('order:SO-CLR-1')).toHaveLength(1);

    // The feed is commit-safe: it shows an event once every older transaction in the database cluster
    // has ended, and suites running in parallel (a large X12 or SFTP batch) may hold one for a while.
    const feed = await waitFor(async () => {
      const items = (await api(hub.url, 'GET', `/v1/events?types=case.resolved,case.reopened&limit=1000`)).body.items.filter((e: any) => e.caseId === open.id);
      return items.length >= 2 ? items : undefined;
    }, 90_000, 'case.resolved and case.reopened in the event feed');
    expect(feed.map((e: any) => e.type)).toEqual(['case.resolved', 'case.reopened']);
  }, 150_000);

  it('opens a new case when the cause recurs after the re-open window', async () => {
    await send(pickShortfall('SO-OLD-1', 'SKU-O1'));
    const first = await caseWhere('order:SO-OLD-1', () => true, 'case SO-OLD-1');
    await send(cleared('SO-OLD-1', 'SKU-O1'));
    await caseWhere('order:SO-OLD-1', (c) => c.status === 'resolved', 'SO-OLD-1 resolved');
    // Resolved two days ago: outside the 24 h window of default@2.1.0.
    await world.db.query(`UPDATE cases SET resolved_at = now() - interval '2 days' WHERE id = $1`, [first.id]);
    await send(pickShortfall('SO-OLD-1', 'SKU-O2'));
    const all = await casesFor('order:SO-OLD-1');
    expect(all.map((c) => c.status).sort()).toEqual(['open', 'resolved']);
    expect(all.find((c) => c.status === 'open').id).not.toBe(first.id);
  });
});
