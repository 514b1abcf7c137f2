import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QUEUE_POLICY, QueueName } from '../queues/queue-policy.js';
import { redisConnection } from '../queues/redis-connection.js';
import { closeWorker } from '../queues/worker-shutdown.js';
import { DeliveryLedger, type ClaimedDelivery } from './delivery-ledger.service.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { Subscriptions } from './subscriptions.service.js';
import { WebhookSender } from './webhook-sender.js';

export interface DeliveryJob {
  deliveryId: string;
}

/** KEYS[1] window set; ARGV now, window ms, limit, member. Atomic, so concurrent workers cannot both take the last slot. */
const SLIDING_WINDOW = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))
`;

/** Enqueues delivery attempts. Job ids name the delivery and attempt, so a second add is a no-op. */
@Injectable()
export class DeliveryQueue {
  constructor(@InjectQueue(QueueName.Delivery) private readonly queue: Queue<DeliveryJob>) {}

  async add(items: { id: string; attempts: number; delayMs?: number; tag?: string }[]) {
    if (!items.length) return;
    await this.queue.addBulk(
      items.map((d) => ({
        name: 'deliver',
        data: { deliveryId: d.id },
        opts: { jobId: `d_${d.id}_${d.attempts}${d.tag ?? ''}`, delay: d.delayMs, attempts: 1, removeOnComplete: true, removeOnFail: QUEUE_POLICY[QueueName.Delivery].removeOnFail },
      })),
    );
  }
}

/** Role worker: the outbox relay loop and the BullMQ worker that sends webhooks. */
@Injectable()
export class DeliveryWorker implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: Worker<DeliveryJob>;
  private sender!: WebhookSender;
  private redis?: Redis;
  private relayTimer?: NodeJS.Timeout;
  private stopped = false;
  /** First attempts this process is sending outside BullMQ (see pump). */
  private direct = 0;
  private pumping = false;
  private pumpAgain = false;
  /** The last claim was full: more first attempts are waiting in the table. */
  private backlog = false;

  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly relay: OutboxRelay,
    private readonly subs: Subscriptions,
    private readonly queue: DeliveryQueue,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit() {
    const c = this.cfg.delivery;
    this.sender = new WebhookSender(this.subs.guard, c.timeoutMs);
    this.redis = new Redis(redisConnection(this.cfg.redisUrl, { worker: false }));
    this.redis.on('error', () => undefined);
    this.worker = new Worker<DeliveryJob>(QueueName.Delivery, (job) => this.handle(job), {
      connection: redisConnection(this.cfg.redisUrl, { worker: true }),
      prefix: this.cfg.keyPrefix,
      concurrency: c.concurrency,
      lockDuration: Math.max(QUEUE_POLICY[QueueName.Delivery].lockDuration, c.timeoutMs * 3),
    });
    this.worker.on('error', (err) => this.log.error({ err: err.message }, 'delivery worker error'));
    // A job fails only on an infrastructure error (database); the row stays pending and the sweeper retries it.
    this.worker.on('failed', (job, err) => this.log.warn({ job: job?.id, err: err.message }, 'delivery job failed; the sweeper will retry it'));
  }

  onApplicationBootstrap() {
    const tick = async () => {
      if (this.stopped) return;
      try {
        // Drain while batches come back full, then wait for the next interval.
        for (;;) {
          const r = await this.relay.run();
          if (r.deliveries.length) this.pump();
          if (r.events < 1000 || this.stopped) break;
        }
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'outbox relay failed; will retry');
      }
      // Each tick also pumps: deliveries another process fanned out, a lease that ran out, a rate-limit slot.
      this.pump();
      if (!this.stopped) this.relayTimer = setTimeout(tick, this.cfg.delivery.relayIntervalMs);
    };
    this.relayTimer = setTimeout(tick, 0);
  }

  /**
   * First attempts go from the deliveries table straight to this process's sender, up to the worker
   * concurrency in flight, taken in order by one statement per batch (DeliveryLedger.claimFresh). A
   * backlog waits, durable and ordered, in the table; BullMQ carries only retries, replays and
   * rate-limited sends, which need a delay. Queuing first attempts too cost three Redis round trips each
   * and, once the senders fell behind, every overflowing delivery went the slow way, so a backlog fed
   * itself. A process that dies mid-send leaves its rows leased; when the lease ends any sender takes
   * them again. Re-entrant calls while a claim is running fold into one more round.
   */
  private pump() {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          const room = this.cfg.delivery.concurrency - this.direct;
          if (this.stopped || room <= 0) break;
          const claimed = await this.ledger.claimFresh(room, this.leaseMs());
          // A full batch means more may be waiting: take them as sends finish.
          this.backlog = claimed.length === room;
          this.direct += claimed.length;
          for (const d of claimed) {
            void this.attempt(d)
              .catch((e) => this.log.warn({ delivery: d.id, err: (e as Error).message }, 'delivery failed before an outcome was recorded; it is taken again when its lease ends'))
              .finally(() => {
                this.direct--;
                // Refill once half the slots are free: a claim per finished send would cost a statement each.
                if (this.backlog && this.direct <= this.cfg.delivery.concurrency / 2) this.pump();
              });
          }
        } while (this.pumpAgain);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'fresh deliveries not claimed; the next relay tick tries again');
      } finally {
        this.pumping = false;
      }
    })();
  }

  /** A delivery that becomes free to go: a first attempt is the pump's, anything else the queue's. */
  private release(next: { id: string; attempts: number }) {
    if (next.attempts === 0) {
      this.backlog = true;
      this.pump();
      return Promise.resolve();
    }
    return this.enqueue([next]);
  }

  /** The outcome is recorded by now: a job that cannot be queued (Redis down) is the sweeper's to queue later. */
  private async enqueue(items: { id: string; attempts: number; delayMs?: number }[]) {
    await this.queue.add(items).catch((e) => this.log.warn({ err: (e as Error).message, n: items.length }, 'delivery stored but not queued; the sweeper will queue it'));
  }

  private leaseMs() {
    return this.cfg.delivery.timeoutMs * 2 + 5000;
  }

  private handle(job: Job<DeliveryJob>) {
    return this.deliver(job.data.deliveryId);
  }

  private async deliver(id: string) {
    const d = await this.ledger.claim(id, this.leaseMs());
    if (!d) return 'not due, blocked by an earlier delivery of its case, or done';
    return this.attempt(d);
  }

  /** One attempt of a leased delivery: rate limit, signed POST, outcome, and what follows. */
  private async attempt(d: ClaimedDelivery) {
    const waitMs = d.rate_per_second ? await this.takeToken(d) : 0;
    if (waitMs > 0) {
      await this.ledger.holdUntilSlot(d.id, waitMs);
      await this.queue.add([{ id: d.id, attempts: d.attempts, delayMs: waitMs + 5, tag: `_rl${Date.now()}` }]);
      return 'rate limited';
    }
    const startedAt = new Date();
    const secrets = this.subs.validSecrets({ sealedSecrets: d.sealed_secrets }).map((s) => s.secret);
    const result = await this.sender.send(d.url, d.id, secrets, Buffer.from(d.body));
    if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
      const done = await this.ledger.recordDelivered(d, result, startedAt);
      if (done?.next) await this.release(done.next);
      return 'delivered';
    }
    const out = await this.ledger.recordOutcome(d, result, startedAt);
    await this.afterOutcome(d, out.status, out.attempts, out.retryInMs);
    return out.status;
  }

  private async afterOutcome(d: ClaimedDelivery, status: string, attempts: number, retryInMs?: number) {
    if (status === 'pending') return this.enqueue([{ id: d.id, attempts, delayMs: retryInMs }]);
    // This one is done: the next event of its case for this subscriber may go now.
    const next = await this.ledger.nextInCase(d);
    if (next) await this.release(next);
  }

  /**
   * Per-subscription rate limit shared by every worker: a sliding one-second window (sorted set of send times) in Redis.
   * A fixed per-second counter would let 2x the rate through around a second boundary; subscribers that enforce
   * their own limit (most do, over any 1 s window) would then answer 429. Returns 0 when a send may go now, else
   * how many ms until the oldest send in the window leaves it.
   */
  private async takeToken(d: ClaimedDelivery): Promise<number> {
    const key = `${this.cfg.keyPrefix}:delivery-rate:${d.subscription_id}`;
    const now = Date.now();
    const wait = (await this.redis!.eval(SLIDING_WINDOW, 1, key, now, 1000, d.rate_per_second!, `${now}:${d.id}`)) as number;
    return Number(wait);
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.relayTimer);
    // Let direct sends finish (each is bounded by the send timeout), as worker.close() does for jobs.
    for (const until = Date.now() + this.cfg.delivery.timeoutMs * 2; this.direct > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    await closeWorker(this.worker);
    await this.sender?.close();
    this.redis?.disconnect();
  }
}
