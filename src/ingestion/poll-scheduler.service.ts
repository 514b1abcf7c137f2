import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { PollFailure, type PollSettings, type ResolvedInstance } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { returnedRows } from '../database/returning.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QueueName, jobOptions } from '../queues/queue-policy.js';
import type { PipelineJob } from './ingestion.service.js';
import { PollAlarms } from './poll-alarms.service.js';
import { pollContext } from './poll-context.js';
import { jobsBySize, type SizedMessage } from './pipeline-jobs.js';

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Scheduler role: runs connectors' poll() (SFTP inboxes, ERP feeds) at each instance's interval.
 * One poll at a time per instance across every hub process: a lease in connector_poll_state, taken
 * with a conditional upsert and renewed while the poll runs; a killed process's lease runs out after
 * HUB_POLL_LEASE_MS. Failed polls back off (doubling from the interval, capped at 5 min, jittered);
 * after `downAfterFailures` in a row, INTEGRATION.CONNECTOR_DOWN; the first success resolves it.
 */
@Injectable()
export class PollScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly owner = `${hostname().slice(0, 30)}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(QueueName.Pipeline) private readonly queue: Queue<PipelineJob>,
    private readonly instances: ConnectorInstances,
    private readonly alarms: PollAlarms,
    private readonly audit: AuditTrail,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.tick(), this.cfg.pollTickMs);
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    this.stopping.abort(new Error('hub stopping'));
    await Promise.allSettled(this.running.values());
  }

  /** Starts every due poll this process can lease. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopping.signal.aborted) return;
    this.ticking = true;
    try {
      for (const row of await this.instances.list()) {
        if (!row.enabled || this.running.has(row.id) || !this.instances.connectorFor(row.type).poll) continue;
        if (!(await this.lease(row.id))) continue;
        const run = this.runOne(row.id).finally(() => this.running.delete(row.id));
        this.running.set(row.id, run);
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'poll scheduling failed; will retry');
    } finally {
      this.ticking = false;
    }
  }

  private async lease(connectorId: string): Promise<boolean> {
    const rows = returnedRows(
      await this.ds.query(
        `INSERT INTO connector_poll_state AS s (connector_id, lease_owner, lease_until, next_poll_at, last_item_at)
         VALUES ($1, $2, now() + make_interval(secs => $3::float8 / 1000), now(), now())
         ON CONFLICT (connector_id) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until
          WHERE (s.lease_until IS NULL OR s.lease_until < now()) AND s.next_poll_at <= now()
         RETURNING connector_id`,
        [connectorId, this.owner, this.cfg.pollLeaseMs],
      ),
    );
    return rows.length > 0;
  }

  private async runOne(connectorId: string): Promise<void> {
    const instance = await this.instances.resolve(connectorId).catch(() => null);
    if (!instance) return this.release(connectorId, 60_000);
    const connector = this.instances.connectorFor(instance.type);
    const settings: PollSettings = connector.pollSettings?.(instance) ?? { intervalMs: 60_000, downAfterFailures: 3 };
    const abort = new AbortController();
    const onStop = () => abort.abort(new Error('hub stopping'));
    this.stopping.signal.addEventListener('abort', onStop);
    const renew = setInterval(() => {
      this.ds
        .query(`UPDATE connector_poll_state SET lease_until = now() + make_interval(secs => $3::float8 / 1000) WHERE connector_id = $1 AND lease_owner = $2 RETURNING 1`, [
          connectorId,
          this.owner,
          this.cfg.pollLeaseMs,
        ])
        .then((r) => {
          if (!returnedRows(r).length) abort.abort(new Error('lease lost to another process'));
        })
        .catch(() => undefined);
    }, Math.max(250, Math.floor(this.cfg.pollLeaseMs / 3)));
    const notes: Record<string, unknown> = {};
    const ctx = pollContext(instance, abort.signal, {
      ds: this.ds,
      audit: this.audit,
      alarms: this.alarms,
      enqueue: (messages) => this.enqueue(messages),
      pause: this.cfg.testPollPause,
      onPause: (name) => this.log.warn({ connector: connectorId, checkpoint: name }, 'poll paused at test checkpoint'),
    }, notes);
    const started = Date.now();
    try {
      const outcome = await connector.poll!(instance, ctx);
      await this.succeeded(instance, settings, { ...outcome, ms: Date.now() - started, ...notes });
    } catch (e) {
      await this.failed(instance, settings, e, notes).catch((err) => this.log.error({ err: (err as Error).message }, 'could not record poll failure'));
    } finally {
      clearInterval(renew);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  private async succeeded(instance: ResolvedInstance, settings: PollSettings, outcome: Record<string, unknown> & { ingested: number }) {
    const [state] = returnedRows<{ down_message_id: string | null; silent_message_id: string | null; last_item_at: Date | null }>(
      await this.ds.query(
        `UPDATE connector_poll_state SET last_poll_at = now(), last_success_at = now(), consecutive_failures = 0, last_outcome = $3::jsonb,
                last_item_at = CASE WHEN $4 > 0 THEN now() ELSE last_item_at END
          WHERE connector_id = $1 AND lease_owner = $2
          RETURNING down_message_id, silent_message_id, last_item_at`,
        [instance.id, this.owner, JSON.stringify(outcome), outcome.ingested],
      ),
    );
    if (state?.down_message_id) {
      await this.alarms.resolve(state.down_message_id, `connector ${instance.id} polled successfully again`);
      await this.ds.query(`UPDATE connector_poll_state SET down_message_id = NULL WHERE connector_id = $1`, [instance.id]);
    }
    if (state?.silent_message_id && outcome.ingested > 0) {
      await this.alarms.resolve(state.silent_message_id, `connector ${instance.id} received new input`);
      await this.ds.query(`UPDATE connector_poll_state SET silent_message_id = NULL WHERE connector_id = $1`, [instance.id]);
    } else if (state && !state.silent_message_id && settings.silentAfterMs && state.last_item_at && Date.now() - new Date(state.last_item_at).getTime() > settings.silentAfterMs) {
      const minutes = Math.round((Date.now() - new Date(state.last_item_at).getTime()) / 60_000);
      const id = await this.alarms.raise(instance, {
        code: 'INTEGRATION.FEED_SILENT',
        title: `Nothing received from ${instance.name} for ${minutes} min (expected within ${Math.round(settings.silentAfterMs / 60_000)} min)`,
        correlationKey: `feed-silent:${instance.id}`,
        attributes: { lastItemAt: new Date(state.last_item_at).toISOString(), silentAfterMs: settings.silentAfterMs },
        fails: false,
      });
      await this.ds.query(`UPDATE connector_poll_state SET silent_message_id = $2 WHERE connector_id = $1`, [instance.id, id]);
    }
    await this.release(instance.id, settings.intervalMs);
  }

  private async failed(instance: ResolvedInstance, settings: PollSettings, e: unknown, notes: Record<string, unknown>) {
    const err = e instanceof Error ? e : new Error(String(e));
    const kind = err instanceof PollFailure ? err.kind : 'error';
    const error = { kind, message: err.message.slice(0, 1000), at: new Date().toISOString() };
    const [state] = returnedRows<{ consecutive_failures: number; down_message_id: string | null }>(
      await this.ds.query(
        `UPDATE connector_poll_state SET last_poll_at = now(), consecutive_failures = consecutive_failures + 1, last_error = $3::jsonb, last_outcome = $4::jsonb
          WHERE connector_id = $1 AND lease_owner = $2 RETURNING consecutive_failures, down_message_id`,
        [instance.id, this.owner, JSON.stringify(error), JSON.stringify(notes)],
      ),
    );
    const failures = state?.consecutive_failures ?? 1;
    this.log.warn({ connector: instance.id, failures, kind, err: error.message }, 'poll failed; will retry with backoff');
    if (state && !state.down_message_id && (failures >= settings.downAfterFailures || (err instanceof PollFailure && err.immediate))) {
      const id = await this.alarms.raise(instance, {
        code: 'INTEGRATION.CONNECTOR_DOWN',
        title: `Connector ${instance.name} down after ${failures} failed poll(s): ${error.message}`.slice(0, 200),
        correlationKey: `connector-down:${instance.id}`,
        attributes: { reason: error.message, kind, failures },
        fails: false,
      });
      await this.ds.query(`UPDATE connector_poll_state SET down_message_id = $2 WHERE connector_id = $1`, [instance.id, id]);
    }
    const backoff = Math.min(Math.max(settings.intervalMs, MAX_BACKOFF_MS), settings.intervalMs * 2 ** Math.min(failures - 1, 16));
    await this.release(instance.id, backoff * (0.8 + Math.random() * 0.4));
  }

  private async release(connectorId: string, delayMs: number) {
    await this.ds.query(
      `UPDATE connector_poll_state SET lease_owner = NULL, lease_until = NULL, next_poll_at = now() + make_interval(secs => $3::float8 / 1000)
        WHERE connector_id = $1 AND lease_owner = $2`,
      [connectorId, this.owner, Math.round(delayMs)],
    );
  }

  /**
   * A file's record batches / interchanges as pipeline jobs of at most 50 messages and
   * HUB_PIPELINE_JOB_BYTES, queued 200 jobs per Redis round trip (one add per job took 36 s for the
   * ~1,000 jobs of a 1 GB CSV, and the file is archived only after that).
   */
  private async enqueue(messages: SizedMessage[]): Promise<void> {
    const jobs = jobsBySize(messages, this.cfg.pipelineJobBytes, 50);
    const opts = jobOptions(QueueName.Pipeline, { attempts: this.cfg.pipelineAttempts, backoffMs: this.cfg.pipelineBackoffMs });
    for (let i = 0; i < jobs.length; i += 200) {
      const chunk = jobs.slice(i, i + 200);
      try {
        await this.queue.addBulk(chunk.map((job) => ({ name: 'process', data: job, opts: { ...opts, jobId: `p_${job.messageIds[0]}` } })));
      } catch (e) {
        // Stored, not queued: the sweeper re-enqueues received messages whose enqueued_at is cleared.
        const ids = chunk.flatMap((j) => j.messageIds);
        this.log.error({ err: (e as Error).message, count: ids.length }, 'could not enqueue polled messages; the sweeper will retry');
        await this.ds.query(`UPDATE inbound_messages SET enqueued_at = NULL WHERE id = ANY($1::uuid[]) AND status = 'received'`, [ids]).catch(() => undefined);
      }
    }
  }
}
