import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { newWorld, pickShortfall, postWebhook, spawnHub, waitFor, waitForHttp, type TestWorld } from '../support/hub-harness.js';
import { freePort, stop } from '../support/processes.js';
import { auditActions, policiesWith } from '../support/sla-harness.js';

/**
 * A worker process SIGKILLed while a case action's call is in flight: the downstream has applied the
 * call and not answered yet. Another worker takes the stalled job over after HUB_QUEUE_LOCK_MS and
 * calls again under the same Idempotency-Key; the downstream applies nothing new, and the action is
 * done once, with one `case.action.done`.
 */
/** A failed wait says what the hub process printed (warnings and errors). */
async function orOutput<T>(wait: Promise<T>, proc: ChildProcess & { output: () => string }): Promise<T> {
  try {
    return await wait;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- hub output ---\n${proc.output().slice(-4000)}`);
  }
}

/** The lock both workers run with; the policy's own lock for case-actions is 60 s. */
const LOCK_MS = 2000;

describe('case action when its worker is killed mid-call', () => {
  let world: TestWorld | undefined;
  let server: Server;
  const procs: ChildProcess[] = [];
  /** Every call the downstream received: its key and whether it was a repeat of an applied key. */
  const calls: { key: string; repeat: boolean; body: any }[] = [];
  /** Side effects the downstream applied, per Idempotency-Key. */
  const effects = new Map<string, number>();
  /** The first call's answer, held open so the kill lands while it is in flight. */
  let held: ServerResponse | undefined;

  beforeAll(async () => {
    // An idempotent downstream (e.g. a wave-release automation): it applies a key's first call at once;
    // a call with a key it has applied gets the answer for a repeat and changes nothing.
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const key = String(req.headers['idempotency-key']);
        const repeat = effects.has(key);
        calls.push({ key, repeat, body: JSON.parse(raw) });
        if (!repeat) effects.set(key, (effects.get(key) ?? 0) + 1);
        // The very first call is applied, then its answer is held until the caller goes away.
        if (calls.length === 1) return void (held = res);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ released: true, replayed: repeat }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
    await world?.drop();
  });

  it('is taken over after the lock, called again under the same key, applied once and done once', async () => {
    const port = (server.address() as { port: number }).port;
    const dir = policiesWith((p) => {
      p.rules.find((r: any) => r.id === 'priority-fulfilment-risk').then.actions = [
        { action: 'http', params: { url: `http://127.0.0.1:${port}/release`, body: { process: 'wave-release' }, timeoutMs: 60_000 } },
      ];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir, HUB_QUEUE_LOCK_MS: String(LOCK_MS) });
    const w = world;
    const apiPort = await freePort();
    procs.push(spawnHub(w, { HUB_ROLES: 'api,scheduler', PORT: String(apiPort) }));
    const base = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(`${base}/health/ready`, 30_000);
    const first = spawnHub(w, { HUB_ROLES: 'worker' });
    procs.push(first);

    expect((await postWebhook(base, w, pickShortfall('SO-KILL-1'))).status).toBe(202);
    await orOutput(waitFor(async () => held, 30_000, "the action's call to reach the downstream"), first);
    const { rows: before } = await w.db.query(`SELECT id, case_id, status, attempts, idempotency_key FROM case_actions WHERE action = 'http'`);
    expect(before).toEqual([expect.objectContaining({ status: 'running', attempts: 1 })]);
    const action = before[0];

    await stop(first, 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    // Nothing settled it: the row is still running, the audit has no settlement.
    expect((await w.db.query(`SELECT status FROM case_actions WHERE id = $1`, [action.id])).rows).toEqual([{ status: 'running' }]);
    expect((await auditActions(w, action.case_id)).filter((a) => a.action.startsWith('case.action.'))).toEqual([]);

    const second = spawnHub(w, { HUB_ROLES: 'worker' });
    procs.push(second);
    const started = Date.now();
    // The killed worker took the lock moments before the kill. With the policy's 60 s lock instead of
    // HUB_QUEUE_LOCK_MS the takeover could not come before about a minute after the kill, so this wait
    // fails first (and well before the test's own timeout); 40 s leaves room for a slow start.
    const done = await orOutput(
      waitFor(async () => {
        const { rows } = await w.db.query(`SELECT status, attempts, result FROM case_actions WHERE id = $1`, [action.id]);
        return rows[0]?.status === 'done' ? rows[0] : undefined;
      }, 40_000, 'the restarted worker to take over and finish the action'),
      second,
    );
    expect(Date.now() - started).toBeLessThan(40_000);

    // The downstream saw the key twice; the second call was a repeat and applied nothing new.
    expect(calls.map((c) => c.key)).toEqual([action.idempotency_key, action.idempotency_key]);
    expect(calls.map((c) => c.repeat)).toEqual([false, true]);
    expect(calls.map((c) => c.body.idempotencyKey)).toEqual([action.idempotency_key, action.idempotency_key]);
    expect([...effects.entries()]).toEqual([[action.idempotency_key, 1]]);
    expect(done).toMatchObject({ status: 'done', attempts: 2, result: { attempt: 2, response: { status: 200, body: { released: true, replayed: true } } } });

    const trail = await auditActions(w, action.case_id);
    const settled = trail.filter((a) => a.action === 'case.action.done' || a.action === 'case.action.failed');
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ action: 'case.action.done', after: { actionId: action.id, idempotencyKey: action.idempotency_key, attempts: 2, status: 'done' } });
  }, 150_000);
});
