import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditTrail, type AuditEntry } from '../audit/audit-trail.service.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { EventFeed, type NewEvent } from '../delivery/event-feed.service.js';
import { Router, type RoutingDecision } from '../routing/router.service.js';
import { CaseCommitments, combine, type AfterCommit } from '../sla/case-commitments.service.js';
import { CaseIntake, type IntakeResult, type RoutedException } from './case-intake.service.js';
import { writeJointly, type WritePart } from '../database/joint-write.js';

export type { AfterCommit, RoutedException };

/**
 * An exception raised outside the pipeline: by the hub itself (connector down, a ship notice that does
 * not match its PO, a dead webhook delivery …) or accepted from free text; on the message (or triage
 * item) it hangs on.
 */
export interface RaisedException {
  messageId: string;
  ordinal: number;
  exception: CanonicalException;
  /** Given when the caller had to route first (e.g. to write its message's status); else routed here. */
  decision?: RoutingDecision;
}

export interface Recorded {
  /** Includes the audit entries and events of the commitments (clocks, tasks, actions). */
  intake: IntakeResult;
  routed: RoutedException[];
  /** Alarms to set or remove and action jobs to enqueue once the caller's transaction has committed: pass to `settle()`. */
  after: AfterCommit;
  /** With `deferWrites`: the new cases' SLA clocks, for the caller to write in its transaction (`writeJointly`). */
  writes: WritePart[];
}

/**
 * The one way an exception becomes part of a case, whether a partner's message carried it (pipeline,
 * reprocess) or it was raised outside the pipeline (poll alarms, connector watch, document matching,
 * expected documents, webhook delivery, free-text triage): CaseIntake stores it and opens, joins, re-opens or clears its case, and in the same
 * transaction CaseCommitments starts the new cases' SLA clocks, tasks and actions and stops the
 * cleared cases' clocks. Alarms and action jobs wait for the commit (`settle`).
 */
@Injectable()
export class ExceptionRecording {
  constructor(
    private readonly router: Router,
    private readonly intake: CaseIntake,
    private readonly commitments: CaseCommitments,
    private readonly audit: AuditTrail,
    private readonly events: EventFeed,
  ) {}

  /**
   * Routed exceptions into cases with their commitments; the caller writes `intake.audit` and
   * `intake.events` with its own. `deferWrites`: the caller reads no SLA clock of these cases in the
   * rest of its transaction, so the new clocks are left to it (`writes`) and cost no statement here;
   * not when a case is cleared in the same call (its clocks are stopped here and must be there first).
   * `keysLocked`: see `CaseIntake.record`.
   */
  async record(m: EntityManager, routed: RoutedException[], deferWrites = false, keysLocked = false): Promise<Recorded> {
    const intake = await this.intake.record(m, routed, keysLocked);
    const defer = deferWrites && !intake.casesResolved.length;
    const opened = await this.commitments.opened(m, intake.casesOpened, defer);
    // A re-opened case runs again: fresh clocks (and its rule's tasks) from the exception that re-opened it.
    const reopened = await this.commitments.reopened(m, intake.casesReopened, defer);
    const cleared = await this.commitments.cleared(m, intake.casesResolved);
    const after = combine(opened, reopened, cleared);
    intake.audit.push(...after.audit);
    intake.events.push(...after.events);
    return { intake, routed, after: { ...after, audit: [], events: [] }, writes: [...opened.writes, ...reopened.writes] };
  }

  /**
   * Exceptions raised outside the pipeline: routed by the policy in force (unless the caller did),
   * recorded like any other, audited (after the caller's `audit` entries) and published, in the
   * caller's transaction.
   */
  async raise(m: EntityManager, findings: RaisedException[], audit: AuditEntry[] = [], keysLocked = false): Promise<Recorded> {
    const r = await this.raiseUnwritten(m, findings, audit, keysLocked);
    await writeJointly(m, [...r.writes, this.audit.part(r.audit), this.events.part(r.events)]);
    return r;
  }

  /**
   * `raise` without writing the audit entries, the events and the new cases' SLA clocks (`writes`):
   * returned for a caller that writes them with its own at the end of the same transaction (the
   * pipeline's matching), reading no clock of these cases before, so they cost no statements of their own.
   */
  async raiseUnwritten(m: EntityManager, findings: RaisedException[], audit: AuditEntry[] = [], keysLocked = false): Promise<Recorded & { audit: AuditEntry[]; events: NewEvent[] }> {
    const routed: RoutedException[] = [];
    for (const f of findings) {
      routed.push({ messageId: f.messageId, ordinal: f.ordinal, exception: f.exception, decision: f.decision ?? (await this.router.decide(f.exception)) });
    }
    const r = await this.record(m, routed, true, keysLocked);
    return { ...r, audit: [...audit, ...r.intake.audit], events: r.intake.events };
  }

  /** After commit: sets and removes alarms, enqueues action jobs. Never throws (the scheduler repairs what could not be set). */
  settle(...after: (AfterCommit | undefined)[]): Promise<void> {
    return this.commitments.settle(combine(...after));
  }
}
