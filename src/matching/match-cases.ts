import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SYSTEM_ACTOR, type AuditEntry } from '../audit/audit-trail.service.js';
import { completeDraft } from '../canonical/exception-draft.js';
import type { RootCause } from '../canonical/taxonomy.js';
import { CaseDesk } from '../cases/case-desk.service.js';
import { ExceptionRecording, type AfterCommit, type RaisedException, type Recorded } from '../cases/exception-recording.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import type { WritePart } from '../database/joint-write.js';
import { prepared } from '../database/prepared.js';
import type { MessageSource } from './match-ledger.service.js';

/** What matching or an expected-document timer found, before the hub completes and routes it. */
export interface MatchFinding {
  /** The message the exception is recorded against (the document that triggered it, or the PO for timers). */
  messageId: string;
  connectorId: string;
  documentType: string;
  testMode: boolean;
  occurredAt: Date;
  policyVersion: string;
  draft: Record<string, unknown>;
}

/** A message matching records exceptions on, as read under the caller's lock: `n` exceptions added so far, `opens`: one opened a case. */
export type MessageTally = MessageSource & { n: number; opens: boolean };

/**
 * Turns matching findings into exceptions recorded like any other (ExceptionRecording: routed, cases
 * with their SLA clocks, tasks and actions), and clears the case of a finding that a later document
 * cleared (the desk's clear: audit + case.resolved, clocks stopped). Always inside the caller's
 * transaction; what they return is settled after its commit.
 */
@Injectable()
export class MatchCases {
  constructor(
    private readonly recording: ExceptionRecording,
    private readonly desk: CaseDesk,
    private readonly instances: ConnectorInstances,
  ) {}

  /**
   * Records findings as exceptions on their messages. With `messages` (the caller holds those rows
   * locked and read their count and source: the pipeline's matching), ordinals are numbered in memory
   * and the counts and statuses are left in `messages` for the caller to write once; without, each
   * message's ordinal range is extended here (one statement per message for all its findings: a large
   * ship-notice file raises thousands) and messages with a new case are marked routed. With
   * `unwritten`, the audit entries, the events and the new cases' SLA clocks are added to it instead of
   * written (the caller reads none of them before it writes them). `keysLocked`: the caller holds the
   * subject locks of these findings (DocumentMatching under the pipeline): every exception with a
   * matching case key (`asn-match:` / `invoice-match:` + partner + PO) is recorded under its subject's
   * lock, so the noise controls need no locks of their own on those keys.
   */
  async raise(m: EntityManager, findings: MatchFinding[], messages?: Map<string, MessageTally>, unwritten?: { audit: AuditEntry[]; events: NewEvent[]; writes: WritePart[] }, keysLocked = false): Promise<{ raised: number; opened: number; after?: AfterCommit }> {
    if (!findings.length) return { raised: 0, opened: 0 };
    const next = new Map<string, { ordinal: number; connector_type: string; sender_event_id: string | null }>();
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(f.messageId, (counts.get(f.messageId) ?? 0) + 1);
    for (const [messageId, n] of counts) {
      const known = messages?.get(messageId);
      if (messages && !known) continue;
      if (known) {
        next.set(messageId, { ...known, ordinal: known.exception_count + known.n });
        known.n += n;
        continue;
      }
      const [msg] = await prepared<{ ordinal: number; connector_type: string; sender_event_id: string | null }>(
        m,
        `UPDATE inbound_messages SET exception_count = exception_count + $2 WHERE id = $1
          RETURNING exception_count - $2 AS ordinal, connector_type, sender_event_id`,
        [messageId, n],
      );
      if (msg) next.set(messageId, msg);
    }
    const raised: RaisedException[] = [];
    // In the order found: of two findings with one correlation key, the first opens the case.
    for (const f of findings) {
      const msg = next.get(f.messageId);
      if (!msg) continue;
      const instance = await this.instances.resolve(f.connectorId);
      const done = completeDraft(f.draft, {
        system: instance?.config.system ?? f.connectorId, connectorId: f.connectorId, connectorType: msg.connector_type,
        messageId: f.messageId, documentType: f.documentType, testMode: f.testMode, senderEventId: msg.sender_event_id ?? undefined,
        receivedAt: f.occurredAt, mapping: { id: 'document-matching', version: f.policyVersion },
      });
      raised.push({ messageId: f.messageId, ordinal: msg.ordinal++, exception: done.exception });
    }
    const audit = raised.map((r) => ({
      actor: SYSTEM_ACTOR, entityType: 'message' as const, entityId: r.messageId, action: 'message.matched',
      after: { code: r.exception.code, title: r.exception.title, correlationKey: r.exception.correlationKey },
    }));
    let recorded: Recorded;
    if (unwritten) {
      // The caller writes these with its own audit entries and events, in the same transaction.
      const r = await this.recording.raiseUnwritten(m, raised, audit, keysLocked);
      unwritten.audit.push(...r.audit);
      unwritten.events.push(...r.events);
      unwritten.writes.push(...r.writes);
      recorded = r;
    } else recorded = await this.recording.raise(m, raised, audit, keysLocked);
    const { routed, intake, after } = recorded;
    const opening = new Set(routed.filter((r) => r.decision.opensCase).map((r) => r.messageId));
    if (messages) for (const id of opening) messages.get(id)!.opens = true;
    else if (opening.size) {
      await prepared(m, `UPDATE inbound_messages SET status = 'routed' WHERE id = ANY($1::uuid[]) AND status IN ('parsed', 'mapped')`, [[...opening]]);
    }
    return { raised: routed.length, opened: intake.casesOpened.length, after };
  }

  /** Clears the open case with this key (test cases carry the `test:` prefix), if there is one. */
  async clear(m: EntityManager, correlationKey: string, testMode: boolean, rootCause: RootCause, note: string, why: Record<string, unknown>): Promise<{ caseId: string; after?: AfterCommit } | null> {
    const key = (testMode ? 'test:' : '') + correlationKey;
    const [open] = await m.query(`SELECT id FROM cases WHERE correlation_key = $1 AND status <> 'resolved'`, [key]);
    if (!open) return null;
    return { caseId: open.id as string, after: await this.desk.clearWithin(m, open.id, rootCause, note, { autoResolved: true, ...why }) };
  }
}
