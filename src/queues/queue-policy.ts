import type { JobsOptions, WorkerOptions } from 'bullmq';

/** Every queue the hub uses. Adding one without a policy below is a compile error. */
export enum QueueName {
  Pipeline = 'pipeline',
  /** Delayed alarms of SLA clocks (src/sla); PostgreSQL holds the truth, jobs are re-armed from it. */
  SlaTimers = 'sla-timers',
  /** Actions routing rules ask for on cases (src/actions). */
  CaseActions = 'case-actions',
  /** Outbound webhook deliveries; retries are scheduled by the delivery rows, not by BullMQ. */
  Delivery = 'delivery',
}

export interface QueuePolicy {
  /** Jobs one worker process runs at once (HUB_WORKER_CONCURRENCY overrides the pipeline's). */
  concurrency: number;
  /**
   * How long a job's lock lasts before another worker may take it over as stalled (a killed process's
   * jobs wait this long). HUB_QUEUE_LOCK_MS, when set, overrides it for every queue but delivery
   * (workerLock).
   */
  lockDuration: number;
  attempts: number;
  backoff: { type: 'jittered'; delay: number; maxDelay: number };
  /** Completed jobs kept (by age in seconds and count), for inspection. */
  removeOnComplete: { age: number; count: number };
  /** Failed jobs are kept for a week: they are the dead-letter evidence. */
  removeOnFail: { age: number };
}

/** The one table of queue policy. */
export const QUEUE_POLICY: Record<QueueName, QueuePolicy> = {
  [QueueName.Pipeline]: {
    concurrency: 4,
    lockDuration: 30_000,
    attempts: 10,
    // 1 s, 2 s, 4 s ... 256 s between the 10 attempts, each ±50% jitter: about 8.5 minutes in all,
    // enough to ride out a database failover or restart before a message is dead-lettered.
    backoff: { type: 'jittered', delay: 1000, maxDelay: 300_000 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  [QueueName.SlaTimers]: {
    concurrency: 8,
    lockDuration: 30_000,
    attempts: 10,
    backoff: { type: 'jittered', delay: 1000, maxDelay: 60_000 },
    // Alarm job ids are reused (clock + threshold); a kept job would block re-arming, and the
    // clock row in PostgreSQL is the record, so finished alarms are dropped.
    removeOnComplete: { age: 0, count: 0 },
    removeOnFail: { age: 0 },
  },
  [QueueName.CaseActions]: {
    concurrency: 4,
    lockDuration: 60_000,
    // 1 s, 2 s, 4 s ... capped at 5 min: about 20 minutes for a target system to come back.
    attempts: 8,
    backoff: { type: 'jittered', delay: 1000, maxDelay: 300_000 },
    removeOnComplete: { age: 3600, count: 10_000 },
    // The case_actions row is the record (status, last error, audit entries), and the scheduler re-adds
    // the job of an unsettled row under the same id: a kept failed job (e.g. one whose worker died more
    // often than the stall limit allows, so nothing settled its row) would block that for a week.
    removeOnFail: { age: 0 },
  },
  [QueueName.Delivery]: {
    concurrency: 32,
    // At least three send timeouts (delivery.worker.ts), so a taken-over job finds its delivery's
    // lease (two timeouts + 5 s) ended; HUB_QUEUE_LOCK_MS does not apply.
    lockDuration: 60_000,
    // One attempt per job: the delivery row holds the retry schedule (about a day), and each retry
    // is a new job, so a Redis outage or flush loses no retry (the delivery sweeper re-enqueues).
    attempts: 1,
    backoff: { type: 'jittered', delay: 30_000, maxDelay: 4 * 3_600_000 },
    // Removed at once so the sweeper may re-add the same job id after a lost job.
    removeOnComplete: { age: 0, count: 0 },
    removeOnFail: { age: 24 * 3600 },
  },
};

/**
 * Lock settings of a queue's worker: HUB_QUEUE_LOCK_MS (`lockMs`) when set, else the policy's lock.
 * Stalled jobs are looked for every half lock, so a killed worker's job is taken over within about
 * one and a half locks rather than at BullMQ's fixed 30 s check.
 */
export function workerLock(name: QueueName, lockMs?: number): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> {
  const lockDuration = lockMs ?? QUEUE_POLICY[name].lockDuration;
  return { lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)) };
}

/** Settings an operator may override per deployment (HUB_PIPELINE_ATTEMPTS, HUB_PIPELINE_BACKOFF_MS). */
export interface PolicyOverrides {
  attempts?: number;
  backoffMs?: number;
}

export function jobOptions(name: QueueName, o: PolicyOverrides = {}): JobsOptions {
  const p = QUEUE_POLICY[name];
  return {
    attempts: o.attempts ?? p.attempts,
    backoff: { type: 'jittered' },
    removeOnComplete: p.removeOnComplete,
    removeOnFail: p.removeOnFail,
  };
}

/** Exponential backoff with ±50% jitter, so retries of many failed jobs do not arrive together. */
export function jitteredBackoff(name: QueueName, o: PolicyOverrides = {}): WorkerOptions['settings'] {
  const { maxDelay } = QUEUE_POLICY[name].backoff;
  const delay = o.backoffMs ?? QUEUE_POLICY[name].backoff.delay;
  return {
    backoffStrategy: (attemptsMade: number) => {
      const base = Math.min(maxDelay, delay * 2 ** Math.max(0, attemptsMade - 1));
      return Math.round(base * (0.5 + Math.random()));
    },
  };
}
