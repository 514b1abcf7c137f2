import { createHash } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { InboundRefusal, type InboundRequest, type PayloadProblem } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import { QueueName, jobOptions } from '../queues/queue-policy.js';
import { InboundWriter } from './inbound-writer.js';
import { PipelineHandoff } from './pipeline-handoff.js';
import { jobsBySize, type PipelineJobData, type SizedMessage } from './pipeline-jobs.js';
import { returnedRows } from '../database/returning.js';

export interface AcceptOutcome {
  messageId: string;
  duplicate: boolean;
  malformed?: PayloadProblem;
}

export type PipelineJob = PipelineJobData;

/**
 * The accept path shared by every push connector: authenticate through the connector, persist
 * the raw message (group commit), answer, then hand it to the pipeline queue.
 */
@Injectable()
export class Ingestion implements OnModuleInit, BeforeApplicationShutdown {
  private writer!: InboundWriter;
  private handoff!: PipelineHandoff;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(QueueName.Pipeline) private readonly queue: Queue<PipelineJob>,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
    private readonly instances: ConnectorInstances,
    private readonly audit: AuditTrail,
    private readonly metrics: HubMetrics,
  ) {}

  private get overrides() {
    return { attempts: this.cfg.pipelineAttempts, backoffMs: this.cfg.pipelineBackoffMs };
  }

  onModuleInit() {
    this.handoff = new PipelineHandoff(this.cfg.enqueueLingerMs, this.cfg.pipelineJobBytes, this.cfg.ingestBatchMax, (job) => this.enqueue(job));
    this.writer = new InboundWriter(this.ds, this.cfg.ingestBatchMax, (committed) => this.handoff.add(committed));
  }

  /** Messages accepted in the last few ms still go to the queue before the connections close. */
  async beforeApplicationShutdown() {
    await this.handoff?.flush();
  }

  /**
   * `viaApi`: the caller was authenticated by API key (file-style route), so connectors without
   * their own authentication (`accept`) take the message as it is.
   */
  async accept(connectorId: string, req: InboundRequest, via: { viaApi?: boolean; eventId?: string; meta?: Record<string, string> } = {}): Promise<AcceptOutcome> {
    const started = performance.now();
    const instance = await this.instances.resolve(connectorId);
    if (!instance) throw this.refuse(connectorId, new InboundRefusal(404, `unknown connector "${connectorId}"`));
    if (!instance.enabled) throw this.refuse(connectorId, new InboundRefusal(403, `connector "${connectorId}" is disabled`));
    const connector = this.instances.connectorFor(instance.type);
    const route = via.viaApi ? connector.acceptFile : connector.accept;
    if (!route) {
      const where = via.viaApi ? 'POST /v1/connectors/{id}/messages' : 'webhooks';
      throw this.refuse(connectorId, new InboundRefusal(404, `connector "${connectorId}" (${instance.type}) does not take messages through ${where}`));
    }
    let acceptance;
    try {
      acceptance = route.call(connector, req, instance);
      if (via.eventId) acceptance = { ...acceptance, senderEventId: via.eventId };
      if (via.meta) acceptance = { ...acceptance, meta: { ...via.meta, ...acceptance.meta } };
    } catch (e) {
      if (e instanceof InboundRefusal) throw this.refuse(connectorId, e);
      throw e;
    }
    const result = await this.writer.submit({
      id: uuidv7(),
      connectorId,
      connectorType: instance.type,
      senderEventId: acceptance.senderEventId ?? null,
      sha256: createHash('sha256').update(req.body).digest('hex'),
      contentType: req.contentType?.slice(0, 128) ?? null,
      raw: req.body,
      receivedAt: req.now,
      meta: acceptance.meta,
    });
    this.metrics.messagesReceived.inc({ connector: connectorId, outcome: result.duplicate ? 'duplicate' : 'accepted' });
    this.metrics.stageDuration.observe({ stage: 'accept' }, (performance.now() - started) / 1000);
    return { ...result, malformed: result.duplicate ? undefined : acceptance.malformed };
  }

  /** Puts stored messages back into the pipeline (dead letters, failed content after a fix). */
  async replay(messageId: string, actor: Actor): Promise<'replayed' | 'not-found' | 'not-replayable'> {
    const outcome = await this.ds.transaction(async (m) => {
      const rows: { status: string }[] = await m.query(`SELECT status FROM inbound_messages WHERE id = $1 FOR UPDATE`, [messageId]);
      if (!rows.length) return 'not-found' as const;
      if (!['failed', 'dead'].includes(rows[0].status)) return 'not-replayable' as const;
      await m.query(`UPDATE inbound_messages SET status = 'received', enqueued_at = now() WHERE id = $1`, [messageId]);
      await this.audit.record(m, [
        { actor, entityType: 'message', entityId: messageId, action: 'message.replayed', before: { status: rows[0].status }, after: { status: 'received' } },
      ]);
      return 'replayed' as const;
    });
    if (outcome === 'replayed') await this.enqueue({ messageIds: [messageId] }, `r_${messageId}_${Date.now()}`);
    return outcome;
  }

  /**
   * Re-enqueues messages that were stored but never reached the queue (Redis down at accept)
   * or whose job vanished. One process sweeps at a time (advisory lock). Rows a pipeline
   * transaction holds are being processed: skipped, not waited for (waiting on them while holding
   * others deadlocked with the pipeline's own row locks during a 1 GB file's drain).
   */
  async sweep(staleAfterMs = 10 * 60_000): Promise<number> {
    const ids = await this.ds.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':hub-sweep')) AS locked`);
      if (!locked) return [] as SizedMessage[];
      const rows = returnedRows<{ id: string; bytes: number }>(await m.query(
        `UPDATE inbound_messages SET enqueued_at = now()
          WHERE id IN (SELECT id FROM inbound_messages
                        WHERE status = 'received' AND received_at < now() - interval '2 seconds'
                          AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => $1::float8 / 1000))
                        ORDER BY received_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
          RETURNING id, size_bytes AS bytes`,
        [staleAfterMs],
      ));
      return rows.map((r): SizedMessage => ({ id: r.id, bytes: Number(r.bytes) }));
    });
    for (const job of jobsBySize(ids, this.cfg.pipelineJobBytes, 100)) await this.enqueue(job, `s_${job.messageIds[0]}_${Date.now()}`);
    if (ids.length) this.log.info({ count: ids.length }, 'swept stored messages back into the pipeline');
    return ids.length;
  }

  private async enqueue(job: PipelineJob, jobId = `b_${job.messageIds[0]}`): Promise<void> {
    const ids = job.messageIds;
    try {
      await this.queue.add('process', job, { ...jobOptions(QueueName.Pipeline, this.overrides), jobId });
    } catch (e) {
      // Stored, not queued: clear enqueued_at so the sweeper picks these up once Redis is back.
      this.log.error({ err: (e as Error).message, count: ids.length }, 'could not enqueue stored messages; the sweeper will retry');
      await this.ds
        .query(`UPDATE inbound_messages SET enqueued_at = NULL WHERE id = ANY($1::uuid[]) AND status = 'received'`, [ids])
        .catch(() => undefined);
    }
  }

  private refuse(connectorId: string, e: InboundRefusal): InboundRefusal {
    this.metrics.messagesRejected.inc({ connector: connectorId, status: String(e.status) });
    return e;
  }
}
