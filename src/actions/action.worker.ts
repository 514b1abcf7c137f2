import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QUEUE_POLICY, QueueName, jitteredBackoff, workerLock } from '../queues/queue-policy.js';
import { redisConnection } from '../queues/redis-connection.js';
import { closeWorker } from '../queues/worker-shutdown.js';
import { ActionRunner } from './action-runner.js';
import { CaseActions, type ActionJob } from './case-actions.service.js';

/** BullMQ worker for case actions (role `worker`): retries with backoff; a done action is never run again. */
@Injectable()
export class ActionWorker implements OnModuleInit, OnApplicationShutdown {
  private worker?: Worker<ActionJob>;

  constructor(
    private readonly actions: CaseActions,
    private readonly runner: ActionRunner,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit() {
    const p = QUEUE_POLICY[QueueName.CaseActions];
    this.worker = new Worker<ActionJob>(QueueName.CaseActions, (job, token) => this.handle(job, token), {
      connection: redisConnection(this.cfg.redisUrl, { worker: true }),
      prefix: this.cfg.keyPrefix,
      concurrency: p.concurrency,
      ...workerLock(QueueName.CaseActions, this.cfg.queueLockMs),
      // As the pipeline's: a job whose worker died mid-call is taken over, not failed, a few times over
      // (each run is safe twice: the claim and the downstream's idempotency key).
      maxStalledCount: 5,
      settings: jitteredBackoff(QueueName.CaseActions),
    });
    this.worker.on('error', (err) => this.log.error({ err: err.message }, 'action worker error'));
  }

  private async handle(job: Job<ActionJob>, token?: string) {
    const a = await this.actions.begin(job.data.actionId);
    if (!a) return { skipped: 'already settled' };
    let run;
    try {
      run = await this.runner.run(a);
    } catch (e) {
      run = { outcome: { status: 'failed' as const, retryable: true, summary: `action threw: ${(e as Error).message}` } };
    }
    const { outcome } = run;
    if (outcome.status === 'failed' && outcome.waitMs && token) {
      // Not yet (e.g. a release whose hold is still being placed): back to pending with its attempt
      // given back, and the job delayed without counting one, so waiting never exhausts the retries.
      await this.actions.postpone(a, outcome.summary);
      await job.moveToDelayed(Date.now() + outcome.waitMs, token);
      throw new DelayedError();
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const settled = outcome.status === 'done' || outcome.retryable === false || last;
    await this.actions.finish(a, outcome, settled, run.effects);
    if (!settled) {
      this.log.warn({ action: a.action, case: a.caseId, attempt: a.attempts, err: outcome.summary }, 'case action failed; will retry');
      throw new Error(outcome.summary);
    }
    return { status: outcome.status, summary: outcome.summary };
  }

  async onApplicationShutdown() {
    await closeWorker(this.worker);
  }
}

/** Scheduler role: actions left unfinished with no job (Redis flushed, enqueue failed) are enqueued again. */
@Injectable()
export class ActionRequeueSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly actions: CaseActions,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}
  onApplicationBootstrap() {
    this.timer = setInterval(() => {
      this.actions.requeueStale(10 * 60_000).catch((e) => this.log.warn({ err: (e as Error).message }, 'action requeue failed; will retry'));
    }, this.cfg.sweepIntervalMs);
  }
  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}
