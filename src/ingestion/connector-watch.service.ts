import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { integrationException } from '../canonical/exception-draft.js';
import { SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import { ExceptionRecording, type AfterCommit, type RaisedException } from '../cases/exception-recording.service.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { ConnectorState } from '../connectors/connector-state.service.js';
import { returnedRows } from '../database/returning.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';

/**
 * Scheduler role: asks each connector that can watch (e.g. X12 for overdue acknowledgments) what
 * should have happened and did not, and records each finding as an exception on the message it
 * concerns, recorded like any other (routed; its case with SLA clocks, tasks and actions). One process
 * watches a connector at a time (advisory lock).
 */
@Injectable()
export class ConnectorWatch {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly instances: ConnectorInstances,
    private readonly state: ConnectorState,
    private readonly mappings: ActiveArtifacts,
    private readonly recording: ExceptionRecording,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async run(now = new Date()): Promise<number> {
    let raised = 0;
    for (const row of await this.instances.list()) {
      if (!row.enabled || !this.instances.connectorFor(row.type).watch) continue;
      raised += await this.watchOne(row.id, now);
    }
    return raised;
  }

  private async watchOne(connectorId: string, now: Date): Promise<number> {
    const instance = await this.instances.resolve(connectorId);
    if (!instance) return 0;
    const connector = this.instances.connectorFor(instance.type);
    let after: AfterCommit | undefined;
    const raised = await this.ds.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':watch:' || $1)) AS locked`, [connectorId]);
      if (!locked) return 0;
      const results = await connector.watch!(instance, this.state.watchContextFor(m, connectorId, now));
      if (!results.length) return 0;
      const mapping = this.mappings.mapping(instance.config.mapping, connectorId);
      const found: RaisedException[] = [];
      for (const { messageId, finding } of results) {
        const [msg] = returnedRows<{ exception_count: number; connector_type: string; sender_event_id: string | null }>(
          await m.query(
            `UPDATE inbound_messages SET exception_count = exception_count + 1 WHERE id = $1
              RETURNING exception_count - 1 AS exception_count, connector_type, sender_event_id`,
            [messageId],
          ),
        );
        if (!msg) continue;
        const exception = integrationException(finding.code, {
          system: instance.config.system, connectorId, connectorType: msg.connector_type, messageId, documentType: 'watch',
          testMode: finding.testMode ?? false, senderEventId: msg.sender_event_id ?? undefined, receivedAt: now,
          mapping: mapping ? { id: mapping.manifest.id, version: mapping.manifest.version } : { id: instance.config.mapping, version: 'none' },
        }, { title: finding.title, correlationKey: finding.correlationKey, attributes: { ...finding.attributes, rawMessageId: messageId } });
        found.push({ messageId, ordinal: msg.exception_count, exception });
      }
      after = (
        await this.recording.raise(
          m,
          found,
          found.map((f) => ({ actor: SYSTEM_ACTOR, entityType: 'message' as const, entityId: f.messageId, action: 'message.watch-finding', after: { code: f.exception.code, title: f.exception.title } })),
        )
      ).after;
      this.log.info({ connector: connectorId, findings: found.length }, 'connector watch raised exceptions');
      return found.length;
    });
    await this.recording.settle(after);
    return raised;
  }
}
