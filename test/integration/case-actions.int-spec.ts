import { createServer, type Server } from 'node:http';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { ActionWorker } from '../../src/actions/action.worker.js';
import { CaseActions } from '../../src/actions/case-actions.service.js';
import { api, newWorld, pickShortfall, postWebhook, REDIS_URL, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { auditActions, policiesWith } from '../support/sla-harness.js';

/**
 * The built-in `http` action against a real local HTTP server that fails twice, then succeeds:
 * retried with backoff, one effect per idempotency key, and a done action never runs again.
 */
describe('case actions', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let server: Server;
  const hits: { key: string; body: any; status: number; path?: string }[] = [];
  /** Keys whose call /apply-then-drop applied (its side effects). */
  const applied: string[] = [];
  const effects = new Map<string, number>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const key = String(req.headers['idempotency-key']);
        const seen = hits.filter((h) => h.key === key).length;
        if (req.url === '/apply-then-drop') {
          // An idempotent downstream whose first answer is lost: it applies the first call, then the connection
          // drops before the answer leaves; a call with a key it has applied gets the same answer, no new effect.
          const replay = applied.includes(key);
          const first = !hits.some((h) => h.path === req.url);
          if (!replay) applied.push(key);
          hits.push({ key, body: JSON.parse(raw), status: first ? 0 : 200, path: req.url });
          if (first) return void req.socket.destroy();
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ paused: true, replayed: replay }));
        }
        // The downstream automation behind /expedite is down for the first two calls of each key; others answer at once.
        const status = req.url === '/expedite' && seen < 2 ? 503 : 200;
        hits.push({ key, body: JSON.parse(raw), status });
        if (status === 200 && !effects.has(key)) effects.set(key, 1);
        else if (status === 200) effects.set(key, effects.get(key)! + 1);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { released: true } : { error: 'unavailable' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    hits.length = 0;
    applied.length = 0;
    effects.clear();
  });
  afterEach(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('retries a failing http action with backoff and has exactly one effect', async () => {
    const port = (server.address() as { port: number }).port;
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [{ action: 'http', params: { url: `http://127.0.0.1:${port}/expedite`, body: { priority: 'rush' } } }];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-1'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    const http = await waitFor(async () => {
      const items = (await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[];
      const a = items.find((x) => x.action === 'http');
      return a?.status === 'done' ? a : undefined;
    }, 60000, 'the http action done');
    expect(http).toMatchObject({ attempts: 3, idempotencyKey: expect.stringMatching(new RegExp(`^${caseId}:http:priority-fulfilment-risk:[0-9a-f]{16}$`)), result: { summary: expect.stringMatching(/: 200$/), response: { status: 200, body: { released: true } } } });
    expect(hits.map((h) => h.status)).toEqual([503, 503, 200]);
    expect(hits[2].body).toMatchObject({ caseId, rule: 'priority-fulfilment-risk', priority: 'rush' });
    expect(effects.get(http.idempotencyKey)).toBe(1);
    const audit = (await auditActions(world, caseId)).filter((a) => a.action === 'case.action.done' && a.after.action === 'http');
    expect(audit).toHaveLength(1);

    // A second job for the same action (a redelivery) finds it done and never calls the target again.
    const u = new URL(REDIS_URL);
    const q = new Queue('case-actions', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: world.prefix });
    const job = await q.add('run', { actionId: http.id }, { jobId: `again_${http.id}` });
    await waitFor(async () => ((await q.getJob(job.id!))?.finishedOn ? true : undefined), 10000, 'the redelivered job');
    expect((await q.getJob(job.id!))!.returnvalue).toEqual({ skipped: 'already settled' });
    await q.close();
    expect(hits).toHaveLength(3);
    expect((await auditActions(world, caseId)).filter((a) => a.action === 'case.action.done' && a.after.action === 'http')).toHaveLength(1);
  }, 150_000);

  it('records a refused call as failed without retrying it', async () => {
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [{ action: 'missing-erp.placeHold', params: {} }];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-2'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    const a = await waitFor(async () => {
      const items = (await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[];
      return items[0]?.status === 'failed' ? items[0] : undefined;
    }, 15000, 'the action failed');
    expect(a).toMatchObject({ attempts: 1, lastError: 'no connector instance missing-erp' });
    expect((await auditActions(world, caseId)).filter((x) => x.action === 'case.action.failed')).toHaveLength(1);
  });

  it('does a notify action in the transaction that opens the case: done with it, recorded once, no job', async () => {
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [
        { action: 'notify', params: { team: 'customer-service', message: 'Shortfall on {{references.order}}' } },
      ];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-3'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    // Visible together with the case: the same transaction wrote them.
    const { rows: actions } = await world.db.query(`SELECT action, status, attempts, result, params FROM case_actions WHERE case_id = $1 ORDER BY status`, [caseId]);
    expect(actions).toEqual([
      expect.objectContaining({ action: 'notify', status: 'done', attempts: 1, result: { summary: 'notified customer-service', response: null, attempt: 1 }, params: { team: 'customer-service', message: 'Shortfall on SO-ACT-3' } }),
    ]);
    const trail = await auditActions(world, caseId);
    expect(trail.map((a) => a.action)).toEqual(expect.arrayContaining(['case.opened', 'case.notified', 'case.action.done']));
    // After the case's own entries, in the order a reader expects.
    expect(trail.findIndex((a) => a.action === 'case.notified')).toBeGreaterThan(trail.findIndex((a) => a.action === 'case.opened'));
    expect(trail.find((a) => a.action === 'case.notified')!.after).toMatchObject({ team: 'customer-service', message: 'Shortfall on SO-ACT-3', severity: 'critical', policy: { id: 'default' } });
    const { rows: events } = await world.db.query(`SELECT type, team, severity FROM outbox_events WHERE case_id = $1 AND type IN ('case.notified', 'case.action.done')`, [caseId]);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'case.notified', team: 'customer-service', severity: 'critical' }),
      expect.objectContaining({ type: 'case.action.done' }),
    ]));
    expect(events).toHaveLength(2);
    // No action job was queued for it.
    const u = new URL(REDIS_URL);
    const q = new Queue('case-actions', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: world.prefix });
    expect(Object.values(await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).reduce((a, b) => a + b, 0)).toBe(0);
    await q.close();
  });

  it('runs an on-resolve notify through the action queue when the case resolves', async () => {
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [
        { action: 'notify', on: 'resolve', params: { team: 'customer-service', message: 'Resolved: {{references.order}}' } },
      ];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-4'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    expect((await world.db.query(`SELECT status FROM case_actions WHERE case_id = $1`, [caseId])).rows).toEqual([{ status: 'on-resolve' }]);
    expect((await api(hub.url, 'POST', `/v1/cases/${caseId}/resolve`, { body: { rootCause: 'OTHER', note: 'shipped complete' } })).status).toBe(200);
    const done = await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT status, attempts FROM case_actions WHERE case_id = $1 AND status = 'done'`, [caseId]);
      return rows[0];
    }, 15000, 'the on-resolve notice done');
    expect(done).toEqual({ status: 'done', attempts: 1 });
    const notified = (await auditActions(world, caseId)).filter((a) => a.action === 'case.notified');
    expect(notified).toHaveLength(1);
    expect(notified[0].after).toMatchObject({ team: 'customer-service', message: 'Resolved: SO-ACT-4', policy: { id: 'default' } });
  });
  it('runs two actions of the same type in one rule as two actions, each with its own key, result and audit entries', async () => {
    const port = (server.address() as { port: number }).port;
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [
        { action: 'notify', params: { team: 'customer-service', message: 'Tell the customer about {{references.order}}' } },
        { action: 'notify', params: { team: 'warehouse-ops', message: 'Find stock for {{references.order}}' } },
        { action: 'http', params: { url: `http://127.0.0.1:${port}/ok`, body: { step: 'expedite' } } },
        { action: 'http', params: { url: `http://127.0.0.1:${port}/ok`, body: { step: 'reserve' } } },
      ];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-5'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    const rows = await waitFor(async () => {
      const { rows } = await world.db.query(`SELECT id, action, status, attempts, idempotency_key, result, params FROM case_actions WHERE case_id = $1 ORDER BY action, idempotency_key`, [caseId]);
      return rows.length === 4 && rows.every((r) => r.status === 'done') ? rows : undefined;
    }, 30000, 'four actions done');
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(4);
    expect(rows.filter((r) => r.action === 'notify').map((r) => r.result.summary).sort()).toEqual(['notified customer-service', 'notified warehouse-ops']);
    expect(rows.filter((r) => r.action === 'http').map((r) => r.result.response)).toEqual([{ status: 200, body: { released: true } }, { status: 200, body: { released: true } }]);
    expect(hits.map((h) => h.body.step).sort()).toEqual(['expedite', 'reserve']);
    expect(new Set(hits.map((h) => h.key))).toEqual(new Set(rows.filter((r) => r.action === 'http').map((r) => r.idempotency_key)));
    const trail = await auditActions(world, caseId);
    expect(trail.filter((a) => a.action === 'case.notified').map((a) => a.after.team).sort()).toEqual(['customer-service', 'warehouse-ops']);
    const done = trail.filter((a) => a.action === 'case.action.done');
    expect(done.map((a) => a.after.actionId).sort()).toEqual(rows.map((r) => r.id).sort());
  }, 60_000);

  it('retries an http action whose answer was lost after the downstream applied it: same key again, one effect, done on the second attempt', async () => {
    const port = (server.address() as { port: number }).port;
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [{ action: 'http', params: { url: `http://127.0.0.1:${port}/apply-then-drop`, body: { process: 'wave-release' } } }];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-6'))).status).toBe(202);
    const caseId = await waitFor(async () => (await world.db.query(`SELECT id FROM cases`)).rows[0]?.id as string | undefined);
    const a = await waitFor(async () => {
      const items = (await api(hub.url, 'GET', `/v1/cases/${caseId}/actions`)).body.items as any[];
      return items[0]?.status === 'done' ? items[0] : undefined;
    }, 30000, 'the http action done');
    // Two calls reached the downstream with the one key; it applied the first only.
    expect(hits).toHaveLength(2);
    expect(hits.map((h) => h.key)).toEqual([a.idempotencyKey, a.idempotencyKey]);
    expect(hits.map((h) => h.body.idempotencyKey)).toEqual([a.idempotencyKey, a.idempotencyKey]);
    expect(applied).toEqual([a.idempotencyKey]);
    expect(a).toMatchObject({ attempts: 2, result: { attempt: 2, response: { status: 200, body: { paused: true, replayed: true } } } });
    // The lost answer was an error of the first attempt; the audit shows one settlement, after two attempts.
    const done = (await auditActions(world, caseId)).filter((x) => x.action === 'case.action.done');
    expect(done).toHaveLength(1);
    expect(done[0].after).toMatchObject({ idempotencyKey: a.idempotencyKey, attempts: 2, status: 'done' });
    expect((await auditActions(world, caseId)).filter((x) => x.action === 'case.action.failed')).toHaveLength(0);
  }, 60_000);

  it('runs again an unsettled action whose job failed for good (its worker died past the stall limit) and was not kept, under the same key', async () => {
    const port = (server.address() as { port: number }).port;
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [{ action: 'http', params: { url: `http://127.0.0.1:${port}/hold` } }];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    hub = await startInProcess(world);
    // The hub's action worker is paused, so the job can be left failed the way BullMQ leaves one that stalled too often.
    const worker = (hub.app.get(ActionWorker) as unknown as { worker: Worker }).worker;
    await worker.pause();
    expect((await postWebhook(hub.url, world, pickShortfall('SO-ACT-9'))).status).toBe(202);
    const a = await waitFor(async () => (await world.db.query(`SELECT id, idempotency_key FROM case_actions WHERE action = 'http'`)).rows[0] as { id: string; idempotency_key: string } | undefined);
    const u = new URL(REDIS_URL);
    const connection = { host: u.hostname, port: Number(u.port || 6379) };
    const failer = new Worker('case-actions', async () => { throw new UnrecoverableError('job stalled more than allowable limit'); }, { connection, prefix: world.prefix });
    const failedIds: string[] = [];
    failer.on('failed', (job) => void (job?.id && failedIds.push(job.id)));
    const q = new Queue('case-actions', { connection, prefix: world.prefix });
    try {
      // Failed for good, and not kept (a kept failed job would block the re-add under the same id).
      await waitFor(async () => (failedIds.includes(`act_${a.id}`) && (await q.getJob(`act_${a.id}`)) === undefined ? true : undefined), 10000, 'the job failed for good');
      await failer.close();
      // Its row was claimed by the run that died and never settled.
      await world.db.query(`UPDATE case_actions SET status = 'running', attempts = 1, updated_at = now() - interval '1 hour' WHERE id = $1`, [a.id]);
      worker.resume();
      expect(await hub.app.get(CaseActions).requeueStale(10 * 60_000)).toBe(1);
      const done = await waitFor(async () => {
        const r = (await world.db.query(`SELECT status, attempts FROM case_actions WHERE id = $1`, [a.id])).rows[0];
        return r.status === 'done' ? r : undefined;
      }, 20000, 'the action done');
      expect(done).toEqual({ status: 'done', attempts: 2 });
      expect(hits.map((h) => h.key)).toEqual([a.idempotency_key]);
      expect((await auditActions(world, (await world.db.query(`SELECT case_id FROM case_actions WHERE id = $1`, [a.id])).rows[0].case_id)).filter((x) => x.action === 'case.action.done')).toHaveLength(1);
    } finally {
      await failer.close();
      await q.close();
    }
  }, 60_000);
});
