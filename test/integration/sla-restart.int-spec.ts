import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { newWorld, pickShortfall, postWebhook, REDIS_URL, spawnHub, waitForHttp, type TestWorld } from '../support/hub-harness.js';
import { freePort, stop } from '../support/processes.js';
import { auditActions, openCaseId, policiesWith, waitForAudit } from '../support/sla-harness.js';

/**
 * Pending SLA timers survive a SIGKILLed hub and a flushed alarm queue: the clocks are rows in
 * PostgreSQL and the restarted scheduler re-arms them. Real time, 24x7, seconds-long targets.
 */
describe('SLA timers across a restart', () => {
  let world: TestWorld;
  const procs: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
    await world?.drop();
  });

  it('fires every threshold exactly once after the hub is killed and the alarm queue is flushed', async () => {
    const dir = policiesWith((p) => {
      const sla = p.slas.find((s: any) => s.id === 'fulfilment-risk');
      sla.calendar = '24x7';
      sla.clocks = [{ kind: 'acknowledge', target: 'PT8S' }];
      sla.escalations = [{ at: 100, to: 'sales-ops' }];
    });
    world = newWorld({ HUB_POLICIES_DIR: dir });
    const port = await freePort();
    const first = spawnHub(world, { PORT: String(port) });
    procs.push(first);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/ready`, 60000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${first.output()}`);
    });
    expect((await postWebhook(base, world, pickShortfall('SO-RESTART-1'))).status).toBe(202);
    const caseId = await openCaseId(world);
    await stop(first, 'SIGKILL');
    const fired = (await auditActions(world, caseId)).filter((a) => a.action.startsWith('sla.'));

    // Lose every alarm: Redis keeps nothing of the SLA queue.
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${world.prefix}:sla-timers:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();

    const second = spawnHub(world, { PORT: String(port) });
    procs.push(second);
    await waitForHttp(`${base}/health/ready`, 60000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${second.output()}`);
    });
    await waitForAudit(world, caseId, 'sla.breached', 1, () => true, 30000);
    await waitForAudit(world, caseId, 'case.escalated', 1, (a) => a.to === 'sales-ops', 10000);
    const audit = await auditActions(world, caseId);
    const count = (action: string, at: number) => audit.filter((a) => a.action === action && a.after.at === at).length;
    expect({ w50: count('sla.warning', 50), w75: count('sla.warning', 75), breach: count('sla.breached', 100), esc: count('case.escalated', 100) }).toEqual({ w50: 1, w75: 1, breach: 1, esc: 1 });
    // The breach was still pending when the hub died: it fired from the re-armed alarm.
    expect(fired.filter((a) => a.action === 'sla.breached')).toHaveLength(0);
  }, 180_000);
});
