import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { completeDraft, integrationException, mappingFailed, type SourceContext } from '../canonical/exception-draft.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { AuditTrail, SYSTEM_ACTOR, type AuditEntry } from '../audit/audit-trail.service.js';
import { CaseIntake, type RoutedException } from '../cases/case-intake.service.js';
import { PayloadError } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { MappingFailure, MappingRegistry, runMapping } from '../mapping/mapping-registry.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import { Router } from '../routing/router.service.js';
import type { MessageError, MessageStatus } from './inbound-message.entity.js';
import { returnedRows } from '../database/returning.js';

interface LockedMessage {
  id: string;
  connector_id: string;
  connector_type: string;
  sender_event_id: string | null;
  raw: Buffer | null;
  received_at: Date;
  exception_count: number;
}

interface Interpretation {
  exceptions: CanonicalException[];
  documentTypes: string[];
  testMode: boolean;
  failed: boolean;
  errors: MessageError[];
}

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
    private readonly instances: ConnectorInstances,
    private readonly mappings: MappingRegistry,
    private readonly router: Router,
    private readonly intake: CaseIntake,
    private readonly audit: AuditTrail,
    private readonly metrics: HubMetrics,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async process(messageIds: string[]): Promise<BatchOutcome> {
    const started = performance.now();
    const outcome = await this.ds.transaction(async (m) => {
      const msgs: LockedMessage[] = await m.query(
        `SELECT id, connector_id, connector_type, sender_event_id, raw, received_at, exception_count
           FROM inbound_messages WHERE id = ANY($1::uuid[]) AND status = 'received' ORDER BY id FOR UPDATE`,
        [messageIds],
      );
      const routed: RoutedException[] = [];
      const updates: { id: string; status: MessageStatus; count: number; docTypes: string[]; test: boolean; errors: MessageError[] }[] = [];
      for (const msg of msgs) {
        const it = await this.interpret(msg);
        const t = performance.now();
        it.exceptions.forEach((exception, i) =>
          routed.push({ messageId: msg.id, ordinal: msg.exception_count + i, exception, decision: this.router.decide(exception) }),
        );
        this.metrics.stageDuration.observe({ stage: 'route' }, (performance.now() - t) / 1000);
        const opensCase = routed.some((r) => r.messageId === msg.id && r.decision.opensCase);
        updates.push({
          id: msg.id,
          status: it.failed ? 'failed' : opensCase ? 'routed' : 'mapped',
          count: msg.exception_count + it.exceptions.length,
          docTypes: it.documentTypes,
          test: it.testMode,
          errors: it.errors,
        });
      }
      const tPersist = performance.now();
      const intake = await this.intake.record(m, routed);
      if (updates.length) {
        await m.query(
          `UPDATE inbound_messages AS im
              SET status = u.status, exception_count = u.count, document_types = u.doc_types::jsonb,
                  test_mode = u.test, errors = im.errors || u.errors::jsonb, attempts = im.attempts + 1, processed_at = now()
             FROM unnest($1::uuid[], $2::varchar[], $3::int[], $4::text[], $5::boolean[], $6::text[])
                  AS u(id, status, count, doc_types, test, errors)
            WHERE im.id = u.id`,
          [
            updates.map((u) => u.id),
            updates.map((u) => u.status),
            updates.map((u) => u.count),
            updates.map((u) => JSON.stringify(u.docTypes)),
            updates.map((u) => u.test),
            updates.map((u) => JSON.stringify(u.errors)),
          ],
        );
      }
      const entries: AuditEntry[] = updates.map((u) => ({
        actor: SYSTEM_ACTOR,
        entityType: 'message',
        entityId: u.id,
        action: 'message.processed',
        before: { status: 'received' },
        after: { status: u.status, exceptions: u.count, documentTypes: u.docTypes, errors: u.errors.map((e) => e.message) },
      }));
      await this.audit.record(m, [...entries, ...intake.audit]);
      this.metrics.stageDuration.observe({ stage: 'persist' }, (performance.now() - tPersist) / 1000);
      for (const r of routed) this.metrics.exceptionsCreated.inc({ code: r.exception.code, severity: r.decision.severity });
      for (const c of intake.casesOpened) this.metrics.casesOpened.inc({ team: c.team });
      return { processed: msgs.length, skipped: messageIds.length - msgs.length, exceptions: routed.length, casesOpened: intake.casesOpened.length };
    });
    this.metrics.stageDuration.observe({ stage: 'batch' }, (performance.now() - started) / 1000);
    return outcome;
  }

  /** Parse and map one message. Content problems become INTEGRATION exceptions, never thrown. */
  private async interpret(msg: LockedMessage): Promise<Interpretation> {
    const errors: MessageError[] = [];
    const at = new Date().toISOString();
    const instance = await this.instances.resolve(msg.connector_id);
    const mapping = instance ? this.mappings.current(instance.config.mapping) : undefined;
    const ctx = (documentType: string, testMode: boolean): SourceContext => ({
      system: instance?.config.system ?? msg.connector_id,
      connectorId: msg.connector_id,
      connectorType: msg.connector_type,
      messageId: msg.id,
      documentType,
      testMode,
      senderEventId: msg.sender_event_id ?? undefined,
      receivedAt: new Date(msg.received_at),
      mapping: mapping
        ? { id: mapping.manifest.id, version: mapping.manifest.version }
        : { id: instance?.config.mapping ?? 'none', version: 'none' },
    });
    const fail = (stage: MessageError['stage'], exception: CanonicalException, message: string, position?: MessageError['position']): Interpretation => {
      errors.push({ stage, message, at, ...(position ? { position } : {}) });
      return { exceptions: [exception], documentTypes: [], testMode: false, failed: true, errors };
    };

    if (!instance) {
      const c = ctx('unknown', false);
      return fail('parse', mappingFailed(c, `connector instance ${msg.connector_id} no longer exists`, {}), `connector instance ${msg.connector_id} not found`);
    }
    const t0 = performance.now();
    let docs;
    try {
      docs = await this.instances.connectorFor(instance.type).parse(msg.raw ?? Buffer.alloc(0), instance);
    } catch (e) {
      if (!(e instanceof PayloadError)) throw e;
      const c = ctx('unparsed', false);
      const exc = integrationException('INTEGRATION.MALFORMED_PAYLOAD', c, {
        title: `Malformed message from ${instance.name}: ${e.problem.reason}`,
        correlationKey: `malformed:${msg.connector_id}`,
        attributes: { reason: e.problem.reason, position: e.problem.position ?? null, rawMessageId: msg.id },
      });
      return fail('parse', exc, e.problem.reason, e.problem.position);
    } finally {
      this.metrics.stageDuration.observe({ stage: 'parse' }, (performance.now() - t0) / 1000);
    }
    const testMode = docs.some((d) => d.testMode);
    if (!mapping) {
      const c = ctx(docs[0]?.documentType ?? 'unknown', testMode);
      return fail('map', mappingFailed(c, `mapping "${instance.config.mapping}" is not loaded`, { rawMessageId: msg.id }), `mapping ${instance.config.mapping} not found`);
    }

    const t1 = performance.now();
    const exceptions: CanonicalException[] = [];
    let failed = false;
    for (const doc of docs) {
      const c = ctx(doc.documentType, doc.testMode ?? false);
      try {
        const drafts = await runMapping(mapping, doc.payload, {
          type: doc.documentType,
          connectorId: instance.id,
          system: instance.config.system,
          testMode: doc.testMode ?? false,
        });
        for (const draft of drafts) {
          const out = completeDraft(draft, c);
          exceptions.push(out.exception);
          if (!out.ok) {
            failed = true;
            errors.push({ stage: 'map', message: out.problems.map((p) => `${p.path}: ${p.message}`).join('; '), at });
          }
        }
      } catch (e) {
        if (!(e instanceof MappingFailure)) throw e;
        failed = true;
        errors.push({ stage: 'map', message: e.message, at });
        exceptions.push(mappingFailed(c, e.message, { ...e.detail, rawMessageId: msg.id }));
      }
    }
    this.metrics.stageDuration.observe({ stage: 'map' }, (performance.now() - t1) / 1000);
    return { exceptions, documentTypes: [...new Set(docs.map((d) => d.documentType))], testMode, failed, errors };
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
