import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Worker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import { QUEUE_POLICY, QueueName, jitteredBackoff, jobOptions, workerLock } from '../queues/queue-policy.js';
import { redisConnection } from '../queues/redis-connection.js';
import { closeWorker } from '../queues/worker-shutdown.js';
import type { PipelineJob } from './ingestion.service.js';
import { Pipeline } from './pipeline.service.js';
import { ByteBudget } from './pipeline-jobs.js';
import { ScoopRounds } from './scoop-rounds.js';

/** Rounds a job waits for before it processes what is left of its own messages by itself. */
const ROUNDS_PER_JOB = 3;

/**
 * BullMQ worker for the pipeline queue (role `worker`). Built by hand rather than with
 * @Processor so concurrency and lock duration come from validated config.
 */
@Injectable()
export class PipelineWorker implements OnModuleInit, OnApplicationShutdown {
  private worker?: Worker<PipelineJob>;
  private budget!: ByteBudget;
  private rounds!: ScoopRounds;

  constructor(
    private readonly pipeline: Pipeline,
    @InjectQueue(QueueName.Pipeline) private readonly queue: Queue<PipelineJob>,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
    private readonly metrics: HubMetrics,
  ) {}

  private get overrides() {
    return { attempts: this.cfg.pipelineAttempts, backoffMs: this.cfg.pipelineBackoffMs };
  }

  onModuleInit() {
    this.budget = new ByteBudget(this.cfg.pipelineInflightBytes);
    this.rounds = new ScoopRounds(
      this.cfg.pipelineScoopRounds,
      (interpreted) => this.pipeline.process([], { scoop: true, interpreted }),
      (e) => this.log.warn({ err: (e as Error).message }, 'scooping round failed; its jobs process their own messages'),
    );
    const policy = QUEUE_POLICY[QueueName.Pipeline];
    this.worker = new Worker<PipelineJob>(QueueName.Pipeline, (job) => this.handle(job), {
      connection: redisConnection(this.cfg.redisUrl, { worker: true }),
      prefix: this.cfg.keyPrefix,
      concurrency: this.cfg.workerConcurrency ?? policy.concurrency,
      ...workerLock(QueueName.Pipeline, this.cfg.queueLockMs),
      maxStalledCount: 5,
      settings: jitteredBackoff(QueueName.Pipeline, this.overrides),
    });
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      // Jobs that exhaust their stall allowance fail without passing through handle().
      if (/stalled/i.test(err.message)) void this.pipeline.noteFailure(job.data.messageIds, err, job.attemptsMade, true);
    });
    this.worker.on('error', (err) => this.log.error({ err: err.message }, 'pipeline worker error'));
  }

  private async handle(job: Job<PipelineJob>) {
    const attempt = job.attemptsMade + 1;
    // Raw bytes in flight in this process stay under HUB_PIPELINE_INFLIGHT_BYTES (see pipeline-jobs.ts);
    // the job's lock is renewed while it waits here.
    const done = await this.budget.take(job.data.bytes ?? (await this.pipeline.rawBytes(job.data.messageIds)));
    const started = Date.now();
    try {
      // A first attempt of an accept batch of small messages is served by scooping rounds
      // (ScoopRounds), which take its messages with every other waiting one; whatever is still waiting
      // afterwards (a full round, rows another process holds, a failed round) is processed here,
      // narrowly. A large file goes straight on (no round would take it). Retries, splits, replays and
      // sweeps stay narrow so a failing message cannot drag others along.
      let ids = job.data.messageIds;
      if (job.attemptsMade === 0 && String(job.id).startsWith('b_')) {
        for (let round = 0; round < ROUNDS_PER_JOB; round++) {
          const left = await this.pipeline.waiting(ids);
          ids = left.ids;
          if (ids.length === 0) return { processed: 0, skipped: job.data.messageIds.length, exceptions: 0, casesOpened: 0 };
          if (!left.scoopable || (await this.rounds.cover())) break;
        }
      }
      const out = await this.pipeline.process(ids);
      this.log.debug({ job: job.id, attempt, ...out, ms: Date.now() - started }, 'pipeline batch done');
      return out;
    } catch (e) {
      const err = e as Error;
      this.metrics.pipelineFailures.inc({ queue: QueueName.Pipeline, kind: 'transient' });
      // One bad message must not hold back the rest of its batch: retry each on its own.
      if (job.data.messageIds.length > 1) {
        this.log.warn({ job: job.id, err: err.message, messages: job.data.messageIds.length }, 'batch failed; splitting into single-message jobs');
        await this.queue.addBulk(
          job.data.messageIds.map((id) => ({
            name: 'process',
            data: { messageIds: [id] },
            opts: { ...jobOptions(QueueName.Pipeline, this.overrides), jobId: `m_${id}_${job.id}` },
          })),
        );
        return { split: job.data.messageIds.length };
      }
      const final = attempt >= (job.opts.attempts ?? 1);
      if (final) this.metrics.pipelineFailures.inc({ queue: QueueName.Pipeline, kind: 'dead' });
      this.log.warn({ job: job.id, attempt, final, err: err.message }, 'pipeline job failed');
      await this.pipeline.noteFailure(job.data.messageIds, err, attempt, final);
      throw err;
    } finally {
      done();
    }
  }

  async onApplicationShutdown() {
    // Finishes running jobs before exiting; a SIGKILL instead leaves them to stall recovery.
    await closeWorker(this.worker);
  }
}
