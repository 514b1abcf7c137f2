import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { DelayedError, Worker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QUEUE_POLICY, QueueName, jitteredBackoff, workerLock } from '../queues/queue-policy.js';
import { redisConnection } from '../queues/redis-connection.js';
import { closeWorker } from '../queues/worker-shutdown.js';
import { Clock } from './clock.js';
import { SlaClocks, type Alarm } from './sla-clocks.service.js';

export interface AlarmJob {
  clockId: string;
  threshold: number;
}

/** Job id of a clock's alarm for one threshold: setting the same alarm twice adds one job. */
export const alarmJobId = (a: { clockId: string; threshold: number }) => `sla_${a.clockId}_${a.threshold}`;

/** Sets and removes SLA alarms: delayed BullMQ jobs, one per clock for its next threshold. */
@Injectable()
export class SlaTimers {
  constructor(
    @InjectQueue(QueueName.SlaTimers) private readonly queue: Queue<AlarmJob>,
    private readonly clock: Clock,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Adds the alarms (after the transaction that decided them has committed). A failure is logged,
   * not thrown: the clock rows are committed and the scheduler re-arms overdue clocks.
   */
  async arm(alarms: Alarm[]): Promise<void> {
    if (!alarms.length) return;
    const now = this.clock.now().getTime();
    const p = QUEUE_POLICY[QueueName.SlaTimers];
    try {
      for (let i = 0; i < alarms.length; i += 1000) {
        await this.queue.addBulk(
          alarms.slice(i, i + 1000).map((a) => ({
            name: 'alarm',
            data: { clockId: a.clockId, threshold: a.threshold },
            opts: {
              jobId: alarmJobId(a),
              delay: Math.max(0, a.dueAt.getTime() - now),
              attempts: p.attempts,
              backoff: { type: 'jittered' },
              removeOnComplete: true,
              removeOnFail: true,
            },
          })),
        );
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message, alarms: alarms.length }, 'could not set SLA alarms; the scheduler re-arms them from sla_clocks');
    }
  }

  /** Removes alarms of stopped or paused clocks. Best effort: a leftover alarm finds its clock stopped and does nothing. */
  async disarm(alarms: Alarm[]): Promise<void> {
    for (const a of alarms) await this.queue.remove(alarmJobId(a)).catch(() => 0);
  }

  /** Sets the alarm of every running clock (scheduler start; overdue ones periodically). */
  async rearm(clocks: SlaClocks, overdueBefore?: Date): Promise<number> {
    let after: string | undefined;
    let n = 0;
    for (;;) {
      const page = await clocks.alarms({ after, limit: 1000, overdueBefore });
      if (!page.length) return n;
      await this.arm(page);
      n += page.length;
      after = page[page.length - 1].clockId;
    }
  }
}

/** BullMQ worker for SLA alarms (role `worker`). */
@Injectable()
export class SlaAlarmWorker implements OnModuleInit, OnApplicationShutdown {
  private worker?: Worker<AlarmJob>;

  constructor(
    private readonly clocks: SlaClocks,
    private readonly timers: SlaTimers,
    private readonly clock: Clock,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit() {
    const p = QUEUE_POLICY[QueueName.SlaTimers];
    this.worker = new Worker<AlarmJob>(QueueName.SlaTimers, (job, token) => this.handle(job, token), {
      connection: redisConnection(this.cfg.redisUrl, { worker: true }),
      prefix: this.cfg.keyPrefix,
      concurrency: p.concurrency,
      ...workerLock(QueueName.SlaTimers, this.cfg.queueLockMs),
      settings: jitteredBackoff(QueueName.SlaTimers),
    });
    this.worker.on('error', (err) => this.log.error({ err: err.message }, 'SLA alarm worker error'));
    this.worker.on('failed', (job, err) => this.log.warn({ job: job?.id, err: err.message }, 'SLA alarm failed'));
  }

  private async handle(job: Job<AlarmJob>, token?: string) {
    const r = await this.clocks.fire(job.data.clockId, job.data.threshold);
    if ('early' in r) {
      // Rang before the business time was reached (clock moved, calendar changed): ring again at the due time.
      await job.moveToDelayed(Date.now() + Math.max(0, r.early.dueAt.getTime() - this.clock.now().getTime()), token);
      throw new DelayedError();
    }
    if ('fired' in r) {
      if (r.next) await this.timers.arm([r.next]);
      return { fired: r.fired.map((f) => `${f.kind}@${f.at}`) };
    }
    return { stale: true };
  }

  async onApplicationShutdown() {
    await closeWorker(this.worker);
  }
}

/** Scheduler role: re-arms every running clock at start (a Redis flush loses nothing), then overdue ones periodically. */
@Injectable()
export class SlaRearmSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly clocks: SlaClocks,
    private readonly timers: SlaTimers,
    private readonly clock: Clock,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap() {
    // In the background: with many open clocks this takes a while and must not hold up the start.
    void this.timers
      .rearm(this.clocks)
      .then((n) => n && this.log.info({ clocks: n }, 'SLA alarms re-armed'))
      .catch((e) => this.log.warn({ err: (e as Error).message }, 'could not re-arm SLA alarms at start; overdue ones are re-armed every sweep'));
    this.timer = setInterval(() => {
      // An alarm a minute late means its job was lost (Redis flushed or failed): set it again.
      this.timers.rearm(this.clocks, new Date(this.clock.now().getTime() - 60_000)).catch((e) => this.log.warn({ err: (e as Error).message }, 'SLA re-arm failed; will retry'));
    }, this.cfg.sweepIntervalMs);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}
