import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import { integrationException } from '../canonical/exception-draft.js';
import { CaseDesk } from '../cases/case-desk.service.js';
import { ExceptionRecording, type AfterCommit } from '../cases/exception-recording.service.js';
import type { ConnectorFinding, ResolvedInstance } from '../connectors/connector.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { Router } from '../routing/router.service.js';

/**
 * Exceptions a polling connector (or the poll scheduler) raises that belong to no ingested message:
 * connector down, feed silent, a file refused before it was read. Each gets a small hub-written
 * inbound message (the finding as JSON, so GET /v1/messages/{id} explains it) and is recorded like
 * any other exception (ExceptionRecording: routed, its case with SLA clocks, tasks and actions).
 */
@Injectable()
export class PollAlarms {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly artifacts: ActiveArtifacts,
    private readonly router: Router,
    private readonly recording: ExceptionRecording,
    private readonly desk: CaseDesk,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /** Records the finding; returns the id of the message it hangs on. */
  async raise(instance: ResolvedInstance, finding: ConnectorFinding): Promise<string> {
    const id = uuidv7();
    const now = new Date();
    const body = Buffer.from(JSON.stringify({ raisedBy: 'hub', connectorId: instance.id, code: finding.code, title: finding.title, attributes: finding.attributes }));
    await this.artifacts.sync();
    const mapping = this.artifacts.mapping(instance.config.mapping, instance.id, 'connector-health');
    const exception = integrationException(
      finding.code,
      {
        system: instance.config.system, connectorId: instance.id, connectorType: instance.type, messageId: id, documentType: 'connector-health',
        testMode: finding.testMode ?? false, receivedAt: now,
        mapping: mapping ? { id: mapping.manifest.id, version: mapping.manifest.version } : { id: instance.config.mapping, version: 'none' },
      },
      { title: finding.title, correlationKey: finding.correlationKey, attributes: { ...finding.attributes, rawMessageId: id } },
    );
    // Routed first: the message row's status says whether the finding opened a case.
    const decision = await this.router.decide(exception);
    let after: AfterCommit | undefined;
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO inbound_messages (id, connector_id, connector_type, sender_event_id, sha256, content_type, size_bytes, raw, received_at, status, processed_at, exception_count, document_types, meta)
         VALUES ($1, $2, $3, $4, $5, 'application/json', $6, $7, $8, $9, $8, 1, '["connector-health"]'::jsonb, $10::jsonb)`,
        [id, instance.id, instance.type, `hub:${id}`, createHash('sha256').update(`hub:${id}`).update(body).digest('hex'), body.length, body, now,
          decision.opensCase ? 'routed' : 'mapped', JSON.stringify({ origin: 'hub', code: finding.code })],
      );
      after = (
        await this.recording.raise(m, [{ messageId: id, ordinal: 0, exception, decision }], [
          { actor: SYSTEM_ACTOR, entityType: 'message', entityId: id, action: 'message.hub-finding', after: { code: finding.code, title: finding.title } },
        ])
      ).after;
    });
    await this.recording.settle(after);
    this.log.warn({ connector: instance.id, code: finding.code, title: finding.title }, 'connector raised an exception');
    return id;
  }

  /** Clears the open case of a finding raised earlier (e.g. the connector is back up): resolved, clocks stopped, on-resolve actions run. */
  async resolve(messageId: string, note: string): Promise<void> {
    const rows: { case_id: string }[] = await this.ds.query(
      `SELECT e.case_id FROM exceptions e JOIN cases c ON c.id = e.case_id WHERE e.message_id = $1 AND c.status <> 'resolved'`,
      [messageId],
    );
    for (const r of rows) {
      await this.desk.clear(r.case_id, 'SYSTEM_OUTAGE', note).catch((e: Error) => this.log.warn({ err: e.message, case: r.case_id }, 'could not resolve case'));
    }
  }
}
