import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, SYSTEM_ACTOR, type AuditEntry } from '../audit/audit-trail.service.js';
import { ExceptionRecording, type AfterCommit, type RoutedException } from '../cases/exception-recording.service.js';
import { EventFeed } from '../delivery/event-feed.service.js';
import { Enrichment } from '../enrichment/enrichment.service.js';
import type { BusinessDocumentRecord } from '../documents/business-document.entity.js';
import { DocumentLedger, STORED_DOCUMENTS } from '../documents/document-ledger.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DocumentMatching, type MatchBatch, type StateRow } from '../matching/document-matching.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import { Router } from '../routing/router.service.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import type { MessageError, MessageStatus } from './inbound-message.entity.js';
import { MessageInterpreter, type Interpretation, type LockedMessage } from './message-interpreter.js';
import { OutboundDocumentRecord } from './outbound-document.entity.js';
import { v7 as uuidv7 } from 'uuid';
import { returnedRows } from '../database/returning.js';
import { writeJointly } from '../database/joint-write.js';
import { prepared } from '../database/prepared.js';
import { TurnTaking } from '../http/turn-taking.js';

/**
 * Scooped messages bypass the worker's byte budget, so only small ones are scooped (webhook events
 * are a few KB); a large file posted over HTTP waits for its own job.
 */
const SCOOP_MAX_BYTES = 64 * 1024;
/** What a scooping round takes (with status 'received'); `$2` is SCOOP_MAX_BYTES. */
const SCOOPABLE = `attempts = 0 AND enqueued_at IS NOT NULL AND meta->>'origin' IS DISTINCT FROM 'poll' AND size_bytes <= $2`;

export interface BatchOutcome {
  processed: number;
  skipped: number;
  exceptions: number;
  casesOpened: number;
}

/**
 * The pipeline's stages for a batch of stored messages: parse (connector) → map (mapping) →
 * route (policy) → record (exceptions, cases, audit, message status) in one transaction.
 * Safe to run twice: messages are locked and only those still `received` are processed.
 */
@Injectable()
export class Pipeline {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly interpreter: MessageInterpreter,
    private readonly documents: DocumentLedger,
    private readonly router: Router,
    private readonly recording: ExceptionRecording,
    private readonly audit: AuditTrail,
    private readonly events: EventFeed,
    private readonly metrics: HubMetrics,
    @Inject(HUB_LOGGER) private readonly log: Logger,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    private readonly artifacts: ActiveArtifacts,
    private readonly matching: DocumentMatching,
    private readonly enrichment: Enrichment,
  ) {}

  /** Raw bytes of messages still to process (for jobs queued without their size). */
  async rawBytes(messageIds: string[]): Promise<number> {
    const [r] = await this.ds.query(`SELECT coalesce(sum(size_bytes), 0)::float8 AS bytes FROM inbound_messages WHERE id = ANY($1::uuid[]) AND status = 'received'`, [messageIds]);
    return Number(r?.bytes ?? 0);
  }

  /**
   * These messages still waiting to be processed, and whether a scooping round would take them all
   * (no lock: a cheap check before any transaction). A large file or a polled record batch never is.
   */
  async waiting(messageIds: string[]): Promise<{ ids: string[]; scoopable: boolean }> {
    const rows: { id: string; scoopable: boolean }[] = await this.ds.query(
      `SELECT id, (${SCOOPABLE}) AS scoopable FROM inbound_messages WHERE id = ANY($1::uuid[]) AND status = 'received'`,
      [messageIds, SCOOP_MAX_BYTES],
    );
    return { ids: rows.map((r) => r.id), scoopable: rows.every((r) => r.scoopable) };
  }

  /**
   * `scoop`: also take other waiting first-attempt messages (ScoopRounds); `interpreted` is called once
   * the batch is mapped and routed, before its writes and locks.
   */
  async process(messageIds: string[], opts: { scoop?: boolean; interpreted?: () => void } = {}): Promise<BatchOutcome> {
    const started = performance.now();
    // Activations made in any process take effect from the next batch (one max(generation) query).
    await this.artifacts.sync();
    const committed: AfterCommit[] = [];
    const outcome = await this.ds.transaction(async (m) => {
      const own: LockedMessage[] = await m.query(
        `SELECT id, connector_id, connector_type, sender_event_id, raw, received_at, exception_count, meta
           FROM inbound_messages WHERE id = ANY($1::uuid[]) AND status = 'received' ORDER BY id FOR UPDATE`,
        [messageIds],
      );
      // A scooping round (ScoopRounds, no ids of its own) takes every waiting small first-attempt
      // message, skipping any another transaction holds: large transactions are where the per-message
      // cost drops, and the jobs of those messages then find nothing left to do. Large files and record
      // batches of polled files are left to their own jobs (bounded work per job).
      const room = opts.scoop ? this.cfg.ingestBatchMax - own.length : 0;
      const extra: LockedMessage[] = room > 0
        ? await m.query(
            `SELECT id, connector_id, connector_type, sender_event_id, raw, received_at, exception_count, meta
               FROM inbound_messages
              WHERE status = 'received' AND ${SCOOPABLE} AND id <> ALL($1::uuid[])
              ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
            [messageIds, SCOOP_MAX_BYTES, room],
          )
        : [];
      const msgs = [...own, ...extra];
      const routed: RoutedException[] = [];
      const updates: { id: string; status: MessageStatus; count: number; docTypes: string[]; test: boolean; errors: MessageError[] }[] = [];
      const kept: { msg: LockedMessage; it: Interpretation }[] = [];
      const turns = new TurnTaking();
      for (const msg of msgs) {
        await turns.pause();
        kept.push({ msg, it: await this.interpreter.interpret(m, msg) });
        // The raw bytes are not needed after parsing: let them go before the next message is parsed.
        msg.raw = null;
      }
      // Enrichment for the whole batch at once: lookups run concurrently (and share one request per
      // key), so the transaction waits for the slowest lookup, not for the sum of them. They are
      // bounded by their timeouts and never throw, so the locks held here stay short.
      const enriched = await this.enrichment.enrich(kept.flatMap((k) => k.it.exceptions));
      for (const k of kept) k.it.exceptions = enriched.splice(0, k.it.exceptions.length);
      for (const { msg, it } of kept) {
        await turns.pause();
        const t = performance.now();
        const mine: RoutedException[] = [];
        for (const [i, exception] of it.exceptions.entries()) {
          mine.push({ messageId: msg.id, ordinal: msg.exception_count + i, exception, decision: await this.router.decide(exception) });
        }
        routed.push(...mine);
        this.metrics.stageDuration.observe({ stage: 'route' }, (performance.now() - t) / 1000);
        const opensCase = mine.some((r) => r.decision.opensCase);
        updates.push({
          id: msg.id,
          status: it.failed ? 'failed' : opensCase ? 'routed' : it.exceptions.length === 0 && it.documents.length ? 'parsed' : 'mapped',
          count: msg.exception_count + it.exceptions.length,
          docTypes: it.documentTypes,
          test: it.testMode,
          errors: it.errors,
        });
      }
      opts.interpreted?.();
      const tPersist = performance.now();
      // SLA clocks, tasks and actions of new cases commit with them; alarms and action jobs follow the commit.
      const { intake, after } = await this.recording.record(m, routed);
      committed.push(after);
      // The documents are stored with their matched lines and the per-PO locks matching reads under
      // (after every lock taken above, as they were in matching), so the status statement below reads
      // the first PO's state at once: matching costs no round trip of its own before it matches.
      const { stored, batch } = await this.keepDocumentsAndAcks(m, kept);
      let first: StateRow | undefined;
      if (updates.length) {
        const read = this.matching.firstRead(batch, 7, 'updated');
        const [row] = await prepared<StateRow>(m,
          `WITH updated AS (
           UPDATE inbound_messages AS im
              SET status = u.status, exception_count = u.count, document_types = u.doc_types::jsonb,
                  test_mode = u.test, errors = im.errors || u.errors::jsonb, attempts = im.attempts + 1, processed_at = now()
             FROM unnest($1::uuid[], $2::varchar[], $3::int[], $4::text[], $5::boolean[], $6::text[])
                  AS u(id, status, count, doc_types, test, errors)
            WHERE im.id = u.id
            RETURNING im.id, im.exception_count, im.connector_type, im.sender_event_id)
           ${read ? `, ${read.ctes} ${read.select}` : 'SELECT count(*) FROM updated'}`,
          [
            updates.map((u) => u.id),
            updates.map((u) => u.status),
            updates.map((u) => u.count),
            updates.map((u) => JSON.stringify(u.docTypes)),
            updates.map((u) => u.test),
            updates.map((u) => JSON.stringify(u.errors)),
            ...(read?.args ?? []),
          ],
        );
        if (read) first = row;
      }
      // Matching (src/matching): after documents and message status are written, under the per-PO locks.
      const matched = await this.matching.afterDocumentsStored(m, stored, { batch, first });
      committed.push(...matched.after);
      const entries: AuditEntry[] = updates.map((u) => ({
        actor: SYSTEM_ACTOR,
        entityType: 'message',
        entityId: u.id,
        action: 'message.processed',
        before: { status: 'received' },
        after: { status: u.status, exceptions: u.count, documentTypes: u.docTypes, errors: u.errors.map((e) => e.message) },
      }));
      // Publish stage: events go to the transactional outbox with the rest of the batch's writes. The audit
      // entries, the events and matching's end of run are written in one statement (one round trip).
      const events = this.events.part([
        ...intake.events,
        ...matched.events,
        ...updates
          .filter((u) => u.status === 'failed')
          .map((u) => ({
            type: 'message.failed' as const,
            entityType: 'message' as const,
            entityId: u.id,
            payload: { messageId: u.id, errors: u.errors, documentTypes: u.docTypes },
          })),
      ]);
      await writeJointly(m, [this.audit.part([...entries, ...intake.audit, ...matched.audit]), events, ...matched.writes]);
      this.metrics.stageDuration.observe({ stage: 'persist' }, (performance.now() - tPersist) / 1000);
      for (const r of routed) this.metrics.exceptionsCreated.inc({ code: r.exception.code, severity: r.decision.severity });
      for (const c of intake.casesOpened) this.metrics.casesOpened.inc({ team: c.team });
      return { processed: msgs.length, skipped: messageIds.length - own.length, exceptions: routed.length, casesOpened: intake.casesOpened.length };
    });
    await this.recording.settle(...committed);
    this.metrics.stageDuration.observe({ stage: 'batch' }, (performance.now() - started) / 1000);
    return outcome;
  }

  /**
   * Business documents and acknowledgments commit with the message's exceptions, or not at all. The
   * documents' matched lines are kept and matching's locks taken in the same statement as the documents.
   * Returns the documents stored and their matching batch.
   */
  private async keepDocumentsAndAcks(m: EntityManager, kept: { msg: LockedMessage; it: Interpretation }[]): Promise<{ stored: BusinessDocumentRecord[]; batch: MatchBatch }> {
    const rows = this.documents.rowsFor(
      kept.filter((k) => k.it.documents.length)
        .map(({ msg, it }) => ({ messageId: msg.id, connectorId: msg.connector_id, receivedAt: new Date(msg.received_at), mappingId: it.mappingId, docs: it.documents })),
    );
    let batch = this.matching.batch(rows);
    const written = rows.length
      ? await this.documents.record(m, rows, (chunk) => this.matching.keepWith(STORED_DOCUMENTS, batch, new Set(chunk.map((d) => d.id))))
      : [];
    // A document of a message already stored is left as it was: match what was written (the batch is
    // handed to matching with the documents it was made of).
    const stored = written.length === rows.length ? rows : written;
    if (stored !== rows) batch = this.matching.batch(stored);
    const acks = kept.flatMap(({ msg, it }) =>
      it.outbound.map((o) => ({
        id: uuidv7(),
        messageId: msg.id,
        connectorId: msg.connector_id,
        partner: o.partner,
        kind: o.kind,
        controlNumber: o.controlNumber,
        contentType: o.contentType,
        content: o.content,
      })),
    );
    if (acks.length) await m.createQueryBuilder().insert().into(OutboundDocumentRecord).values(acks).updateEntity(false).execute();
    return { stored, batch };
  }

  /** Records a failed attempt (outside the rolled-back transaction); the last one moves the messages to dead. */
  async noteFailure(messageIds: string[], err: unknown, attempt: number, final: boolean): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const error: MessageError = { stage: 'pipeline', message: message.slice(0, 2000), at: new Date().toISOString(), attempt };
    try {
      await this.ds.transaction(async (m) => {
        const rows = returnedRows<{ id: string; connector_id: string }>(await m.query(
          `UPDATE inbound_messages SET errors = errors || $2::jsonb, attempts = attempts + 1,
                  status = CASE WHEN $3 THEN 'dead' ELSE status END
            WHERE id = ANY($1::uuid[]) AND status = 'received' RETURNING id, connector_id`,
          [messageIds, JSON.stringify([error]), final],
        ));
        if (final && rows.length) {
          await this.audit.record(
            m,
            rows.map((r) => ({ actor: SYSTEM_ACTOR, entityType: 'message', entityId: r.id, action: 'message.dead', after: { error: error.message, attempts: attempt } })),
          );
          for (const r of rows) this.metrics.deadLetters.inc({ connector: r.connector_id });
        }
      });
    } catch (e) {
      // The database may be the reason the job failed; the job's own retry carries on regardless.
      this.log.warn({ err: (e as Error).message, messageIds: messageIds.length }, 'could not record pipeline failure');
    }
  }
}
