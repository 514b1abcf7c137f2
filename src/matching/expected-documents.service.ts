import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { ExceptionRecording, type AfterCommit } from '../cases/exception-recording.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { MatchCases } from './match-cases.js';
import { MatchLedger, type FulfilledTimer, type NewTimer } from './match-ledger.service.js';
import type { ExpectedKind } from './matching.entities.js';
import type { Tolerances } from './matching-policy.js';
import { MatchingPolicyStore } from './matching-policy.store.js';

interface PoDoc {
  connector_id: string;
  message_id: string;
  received_at: Date;
  dates: Record<string, string> | null;
  /** The earliest line's requested delivery date. */
  requested_delivery: string | null;
}
interface SubjectRef {
  partner: string;
  testMode: boolean;
  poNumber: string;
}

/** Which document fulfils each expectation, and what is raised when it does not come. */
const EXPECTATIONS: Record<ExpectedKind, { fulfilledBy: string; code: string; key: string; what: string }> = {
  po_ack: { fulfilledBy: 'po_acknowledgment', code: 'PROCUREMENT.PO_ACK_MISSING', key: 'po-ack-missing', what: 'PO acknowledgment (855)' },
  ship_notice: { fulfilledBy: 'ship_notice', code: 'PROCUREMENT.ASN_MISSING', key: 'asn-missing', what: 'ship notice (856)' },
};

/**
 * Expected documents as durable due-times in PostgreSQL: a stored purchase order plans "855 within
 * the partner's window" and "856 before the requested delivery date"; the scheduler role raises what
 * is overdue (`fireDue(now)`; tests pass their own clock); the document's arrival fulfils the timer and
 * resolves an exception already raised.
 */
@Injectable()
export class ExpectedDocuments {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly cases: MatchCases,
    private readonly policy: MatchingPolicyStore,
    private readonly recording: ExceptionRecording,
    private readonly ledger: MatchLedger,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * The timers of the subject's purchase orders (the newest PO's dates win); one whose document is among
   * `presentTypes` is to be written fulfilled. Returned, not written: the run writes every subject's new
   * timers with its last statement (`MatchLedger.finish`; a timer already there keeps its due time).
   * Nothing in the run reads a subject's timers after its state was read, so writing them last is the same.
   */
  plan(s: SubjectRef, pos: PoDoc[], tol: Tolerances, presentTypes: Set<string>): NewTimer[] {
    if (!pos.length) return [];
    const po = pos.reduce((a, b) => (new Date(b.received_at) >= new Date(a.received_at) ? b : a));
    const rows: { kind: ExpectedKind; dueAt: Date }[] = [];
    if (tol.ackWindowHours !== null) rows.push({ kind: 'po_ack', dueAt: new Date(new Date(po.received_at).getTime() + tol.ackWindowHours * 3_600_000) });
    const delivery = po.dates?.requestedDelivery ?? po.dates?.deliverNoLater ?? po.requested_delivery ?? undefined;
    if (tol.asnLeadHours !== null && delivery) rows.push({ kind: 'ship_notice', dueAt: new Date(Date.parse(`${delivery}T00:00:00Z`) - tol.asnLeadHours * 3_600_000) });
    return rows.map((r) => ({
      ...r, partner: s.partner, poNumber: s.poNumber, testMode: s.testMode, connectorId: po.connector_id, messageId: po.message_id,
      correlationKey: `${EXPECTATIONS[r.kind].key}:${s.partner}:${s.poNumber}`, fulfilled: presentTypes.has(EXPECTATIONS[r.kind].fulfilledBy),
    }));
  }

  /** Which document type fulfils which timer: what `MatchLedger.subjectState` settles with the subject's state. */
  fulfilment(): { type: string; kind: ExpectedKind }[] {
    return (Object.keys(EXPECTATIONS) as ExpectedKind[]).map((kind) => ({ type: EXPECTATIONS[kind].fulfilledBy, kind }));
  }

  /** Timers the subject's documents just fulfilled (`MatchLedger.subjectState`): clears the case of one that had already fired. */
  async settle(m: EntityManager, s: SubjectRef, fulfilled: FulfilledTimer[], trigger: { id: string; message_id: string; type: string }): Promise<{ resolved: number; after: AfterCommit[] }> {
    let resolved = 0;
    const after: AfterCommit[] = [];
    for (const e of fulfilled) {
      const exp = EXPECTATIONS[e.kind];
      if (e.status === 'raised') {
        const note = `cleared: the ${exp.what} arrived after its due time ${new Date(e.due_at).toISOString()} (message ${trigger.message_id})`;
        const cleared = await this.cases.clear(m, e.correlation_key, s.testMode, 'SUPPLIER_ERROR', note, { clearedBy: { documentId: trigger.id, messageId: trigger.message_id, type: trigger.type } });
        if (cleared) {
          resolved++;
          if (cleared.after) after.push(cleared.after);
        }
      }
    }
    return { resolved, after };
  }

  /** Scheduler role: raises every expectation due at `now` (timers another process holds are skipped). */
  async fireDue(now = new Date(), limit = 500): Promise<number> {
    let after: AfterCommit | undefined;
    const raised = await this.ds.transaction(async (m) => {
      const due = await this.ledger.dueTimers(m, now, limit);
      if (!due.length) return 0;
      const version = this.policy.current().version;
      const r = await this.cases.raise(
        m,
        due.map((e) => ({
          messageId: e.message_id, connectorId: e.connector_id, documentType: 'purchase_order', testMode: e.test_mode, occurredAt: now, policyVersion: version,
          draft: {
            code: EXPECTATIONS[e.kind].code,
            title: `No ${EXPECTATIONS[e.kind].what} from ${e.partner} for PO ${e.po_number} by ${new Date(e.due_at).toISOString()}`,
            references: { po: e.po_number, supplier: e.partner },
            occurredAt: new Date(e.due_at).toISOString(),
            correlationKey: e.correlation_key,
            attributes: { partner: e.partner, expected: EXPECTATIONS[e.kind].fulfilledBy, dueAt: new Date(e.due_at).toISOString() },
          },
        })),
      );
      await this.ledger.markTimersRaised(m, due.map((e) => e.id), now);
      this.log.info({ raised: r.raised }, 'expected documents overdue');
      after = r.after;
      return r.raised;
    });
    await this.recording.settle(after);
    return raised;
  }
}
