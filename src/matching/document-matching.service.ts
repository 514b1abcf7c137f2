import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit-trail.service.js';
import type { RootCause } from '../canonical/taxonomy.js';
import type { AfterCommit } from '../cases/exception-recording.service.js';
import type { WritePart } from '../database/joint-write.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import { fingerprint, matchDocuments, newestBy, type AsnResult, type InvoiceResult, type MatchDocument } from './document-match.js';
import { ExpectedDocuments } from './expected-documents.service.js';
import { MatchCases, type MatchFinding, type MessageTally } from './match-cases.js';
import { MatchLedger, type MatchedDocumentHead, type NewTimer, type ResultRow, type StateQuery, type StateRow, type SubjectRef, type SubjectState } from './match-ledger.service.js';
import { keptLinesToMatchLines, matchedLinesRows, type KeptLines, type MatchedLinesRow, type StoredDocument } from './matched-lines.js';
import { tolerancesFor, type Tolerances } from './matching-policy.js';
import { MatchingPolicyStore } from './matching-policy.store.js';

export type { StateRow };

/** The batch's document that concerns a subject: new exceptions are recorded on its message, clears name it. */
type Trigger = Pick<MatchedLinesRow, 'documentId' | 'messageId' | 'connectorId' | 'type' | 'poNumber' | 'shipmentId' | 'invoiceNumber'>;

/** One partner's PO in one world (test or production): what is matched together, under one lock. */
interface Subject extends SubjectRef {
  /** The newest document of this batch that concerns the subject. */
  trigger: Trigger;
  /** Document types of this batch for the subject: timers are planned and settled only when a PO, 855 or 856 came. */
  types: Set<string>;
}

type Head = MatchedDocumentHead & { id: string; receivedAt: Date };

/** One matching run (a pipeline batch): what is written once at its end, and the findings not yet recorded. */
interface Run {
  rows: MatchedLinesRow[];
  batchIds: string[];
  /** Trigger messages (locked by the pipeline) with the exceptions matching numbered on them. */
  messages: Map<string, MessageTally>;
  saves: (ResultRow & Omit<SubjectRef, 'key'>)[];
  /** Timers of the POs of the batch, written with the results. */
  timers: NewTimer[];
  findings: MatchFinding[];
  result: MatchRunResult;
}

/** A batch's matched lines and subjects (`DocumentMatching.batch`). */
export interface MatchBatch {
  stored: StoredDocument[];
  rows: MatchedLinesRow[];
  /** Sorted by key. */
  subjects: Subject[];
  /** The subjects' lock keys (`SUBJECT_LOCKS`). */
  keys: string[];
  /** The ids of the documents with matched lines. */
  documentIds: string[];
}

export interface MatchRunResult {
  subjects: number;
  /** Subjects whose current documents had not changed since their last match: not matched again. */
  unchanged: number;
  raised: number;
  resolved: number;
  /** SLA alarms and action jobs of the cases raised and cleared, for the caller to settle after its commit. */
  after: AfterCommit[];
  /** Audit entries and outbox events of the exceptions raised (the last chunk's), for the caller to write in its transaction. */
  audit: AuditEntry[];
  events: NewEvent[];
  /**
   * The run's end (results, timers, the messages' exception counts) and the last findings' SLA clocks,
   * for the caller to make in its transaction with its own end writes, in one statement (`writeJointly`):
   * not made here.
   */
  writes: WritePart[];
}

/**
 * Matches purchase orders, ship notices and invoices by partner + PO number + line, inside the
 * pipeline transaction right after the batch's documents are stored. The matched lines of each
 * document are kept with it (`document_match_lines`, a few fields per line); every current document
 * of the PO is matched from them, so arrival order does not matter. Per subject (the PO's ship
 * notices, each invoice) the last findings are kept in `document_matches` with a digest of what they
 * were computed from: a subject whose documents did not change is not matched again, the same
 * findings raise nothing new, findings that disappear resolve the case.
 */
@Injectable()
export class DocumentMatching {
  constructor(
    private readonly cases: MatchCases,
    private readonly expected: ExpectedDocuments,
    private readonly policy: MatchingPolicyStore,
    private readonly ledger: MatchLedger,
  ) {}

  /**
   * The subjects a batch's documents concern, and their lock keys (sorted). The pipeline keeps the
   * matched lines and takes the subject locks with its INSERT of the documents (`keepWith`), reads the
   * first subject's state with its next statement (`firstRead`) and hands both back to
   * `afterDocumentsStored`: no round trip of matching's own before it matches.
   */
  batch(stored: StoredDocument[]): MatchBatch {
    const rows = stored.flatMap(matchedLinesRows);
    const subjects = new Map<string, Subject>();
    for (const r of rows.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.documentId < b.documentId ? -1 : 1))) {
      const key = `${r.partner}|${r.testMode ? 'test' : 'prod'}|${r.poNumber}`;
      const seen = subjects.get(key);
      subjects.set(key, { key, partner: r.partner, testMode: r.testMode, poNumber: r.poNumber, trigger: r, types: new Set([...(seen?.types ?? []), r.type]) });
    }
    const ordered = [...subjects.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { stored, rows, subjects: ordered, keys: ordered.map((s) => s.key), documentIds: [...new Set(rows.map((r) => r.documentId))] };
  }

  /**
   * The write that keeps the matched lines of the documents a statement stores (`stored`: the CTE of
   * the ids it wrote; `documentIds`: the documents it stores) and takes every subject lock of the batch
   * with them, all at once in hash order (a batch stored in several statements takes them again in
   * each: they are re-entrant, and never some in one statement and more in a later one). The locks are
   * taken when a line is kept, so whenever a document with lines was written. Null when none of these
   * documents has lines.
   */
  keepWith(stored: string, batch: MatchBatch, documentIds: Set<string>): WritePart | null {
    const rows = batch.rows.filter((r) => documentIds.has(r.documentId));
    return rows.length ? this.ledger.keepWith(stored, rows, batch.keys) : null;
  }

  /** The first subject's state read, for the caller's next statement after `keepWith`'s (see `MatchLedger.stateRead`). */
  firstRead(batch: MatchBatch, first: number, message: string): { ctes: string; select: string; args: unknown[] } | null {
    const s = batch.subjects[0];
    return s ? this.ledger.stateRead(s, this.stateQuery(batch, s), first, message) : null;
  }

  /**
   * `held`: the batch whose lines the caller kept and whose subject locks it holds (`keepWith`), and
   * the row of its first subject's state read (`firstRead`) when the caller made it.
   */
  async afterDocumentsStored(m: EntityManager, stored: StoredDocument[], held?: { batch: MatchBatch; first?: StateRow }): Promise<MatchRunResult> {
    const result: MatchRunResult = { subjects: 0, unchanged: 0, raised: 0, resolved: 0, after: [], audit: [], events: [], writes: [] };
    // The caller's first read fulfilled the subject's timers: it must be this batch's, or they would be lost.
    if (held && held.batch.stored !== stored) throw new Error('matching was handed the batch of other documents');
    const batch = held?.batch ?? this.batch(stored);
    const { rows, subjects: ordered } = batch;
    if (!rows.length) return result;
    // The locks must be held before the statement that reads the subject (its snapshot is taken when it
    // starts): without the caller's, they are taken here with the lines, and the reads follow.
    if (batch !== held?.batch) await this.ledger.keepLinesAndLock(m, rows, batch.keys);
    const run: Run = { rows, batchIds: batch.documentIds, messages: new Map(), saves: [], timers: [], findings: [], result };
    for (const [i, s] of ordered.entries()) {
      const state = i === 0 && held?.first ? this.ledger.toState(held.first) : await this.ledger.subjectState(m, s, this.stateQuery(batch, s));
      if (state.message && !run.messages.has(s.trigger.messageId)) run.messages.set(s.trigger.messageId, { ...state.message, n: 0, opens: false });
      const heads: Head[] = state.documents.map((h) => ({ ...h, id: h.document_id, receivedAt: new Date(h.received_at) }));
      const tol = tolerancesFor(this.policy.current(), s.partner);
      if (s.types.has('purchase_order')) run.timers.push(...this.expected.plan(s, heads.filter((d) => d.type === 'purchase_order'), tol, new Set(heads.map((d) => d.type))));
      if (state.fulfilled.length) {
        const settled = await this.expected.settle(m, s, state.fulfilled, { id: s.trigger.documentId, message_id: s.trigger.messageId, type: s.trigger.type });
        result.resolved += settled.resolved;
        result.after.push(...settled.after);
      }
      const matched = await this.matchSubject(m, s, heads, state, tol, run);
      if (!matched) result.unchanged++;
      // A file of ship notices for unknown POs raises thousands: record them as they come, so the
      // exceptions, cases and events of the whole file are never held in memory at once.
      if (run.findings.length >= RAISE_CHUNK) await this.raise(m, run.findings.splice(0), run);
    }
    result.subjects = ordered.length;
    // The last findings' audit entries, events and SLA clocks go out with the pipeline's own end writes
    // (no statements of their own): nothing below reads them.
    await this.raise(m, run.findings, run, result);
    // Every subject's new results and timers and the messages' exception counts: written by the caller with its audit entries.
    result.writes.push(...this.ledger.finish(run.saves, [...run.messages].filter(([, t]) => t.n > 0).map(([id, t]) => ({ id, n: t.n, opens: t.opens })), run.timers));
    return result;
  }

  /** What a subject's state read asks for: timers are settled only when a PO, 855 or 856 came. */
  private stateQuery(batch: MatchBatch, s: Subject): StateQuery {
    const presentFor = s.types.has('purchase_order') || s.types.has('po_acknowledgment') || s.types.has('ship_notice');
    return { batchIds: batch.documentIds, messageId: s.trigger.messageId, fulfil: presentFor ? this.expected.fulfilment() : null };
  }

  private async raise(m: EntityManager, findings: MatchFinding[], run: Run, unwritten?: { audit: AuditEntry[]; events: NewEvent[]; writes: WritePart[] }) {
    // Under the subject locks (the pipeline's or keepLinesAndLock's): the findings' case keys are covered.
    const raised = await this.cases.raise(m, findings, run.messages, unwritten, true);
    run.result.raised += raised.raised;
    if (raised.after) run.result.after.push(raised.after);
  }

  /**
   * Matches what changed in one subject. The current documents (newest per shipment / invoice number)
   * and their content hashes give each result's inputs digest; only results whose digest moved are
   * computed again, and only their documents' lines are read. Returns false when nothing had changed.
   */
  private async matchSubject(m: EntityManager, s: Subject, heads: Head[], state: SubjectState, tol: Tolerances, run: Run): Promise<boolean> {
    const prior = state.results;
    const po = newestBy(heads.filter((d) => d.type === 'purchase_order'), () => 'po')[0] ?? null;
    const asns = newestBy(heads.filter((d) => d.type === 'ship_notice'), (d) => d.shipment_id ?? d.id);
    const invoices = newestBy(heads.filter((d) => d.type === 'invoice'), (d) => d.invoice_number ?? d.id);
    const base = [JSON.stringify(tol), po?.content_hash ?? null];
    const asnInputs = asns.map((a) => `${a.shipment_id ?? a.id}:${a.content_hash}`).sort();
    const wanted = new Map<string, string>();
    if (asns.length) wanted.set(`${s.key}|asn`, digest([...base, ...asnInputs]));
    // An invoice is matched against the PO and (3-way) what every current ship notice shipped.
    for (const inv of invoices) wanted.set(invoiceKey(s, inv.invoice_number ?? inv.id), digest([...base, ...asnInputs, inv.content_hash]));
    const stale = new Set([...wanted].filter(([key, d]) => prior.get(key)?.inputs_digest !== d).map(([key]) => key));
    if (!stale.size) return false;

    const staleInvoices = invoices.filter((inv) => stale.has(invoiceKey(s, inv.invoice_number ?? inv.id)));
    const docs = [...(po ? [po] : []), ...(stale.has(`${s.key}|asn`) || staleInvoices.length ? asns : []), ...staleInvoices];
    const lines = this.linesFor(s, docs, state.lines, run.rows);
    const missing = docs.filter((d) => !lines.has(d.id)).map((d) => d.id);
    for (const [id, l] of await this.ledger.linesOf(m, s.poNumber, missing)) lines.set(id, l);
    const outcome = matchDocuments(s.poNumber, docs.map((d) => toMatchDocument(d, s.poNumber, keptLinesToMatchLines(lines.get(d.id) ?? { count: 0, values: {} }))), tol);
    const results = [
      ...(outcome.asn ? [this.asnSubject(s, outcome.asn, tol)] : []),
      ...outcome.invoices.map((inv) => this.invoiceSubject(s, inv, tol)),
    ].filter((r) => stale.has(r.subjectKey));
    const save: ResultRow[] = [];
    for (const r of results) {
      const before = prior.get(r.subjectKey);
      save.push({ subjectKey: r.subjectKey, kind: r.kind, fingerprint: r.fingerprint, hasFindings: r.finding !== null, correlationKey: r.correlationKey, inputsDigest: wanted.get(r.subjectKey)! });
      if (before?.fingerprint === r.fingerprint) continue;
      if (r.finding) run.findings.push(r.finding);
      else if (before?.has_findings) {
        const onlyUnknownPo = (JSON.parse(before.fingerprint) as [string][]).every(([kind]) => kind === 'po_unknown');
        const rootCause: RootCause = onlyUnknownPo ? 'NO_ISSUE' : 'SUPPLIER_ERROR';
        const by = `${docLabel(s.trigger)} (message ${s.trigger.messageId})`;
        const note = onlyUnknownPo ? `cleared: the purchase order arrived, ${by}` : `cleared by corrective document ${by}`;
        const cleared = await this.cases.clear(m, r.correlationKey, s.testMode, rootCause, note, { clearedBy: { documentId: s.trigger.documentId, messageId: s.trigger.messageId, type: s.trigger.type } });
        if (cleared) {
          run.result.resolved++;
          if (cleared.after) run.result.after.push(cleared.after);
        }
      }
    }
    // Unchanged findings too: their digest moves, so the next unchanged batch is skipped. Written with the run's end (`finish`).
    run.saves.push(...save.map((r) => ({ ...r, partner: s.partner, poNumber: s.poNumber, testMode: s.testMode })));
    return true;
  }

  /** Lines of these documents already at hand: the batch's own (kept just now) and those read with the subject's state. */
  private linesFor(s: Subject, docs: Head[], read: Map<string, KeptLines>, rows: MatchedLinesRow[]): Map<string, KeptLines> {
    const out = new Map<string, KeptLines>();
    for (const d of docs) {
      const l = rows.find((r) => r.documentId === d.id && r.poNumber === s.poNumber)?.lines ?? read.get(d.id);
      if (l) out.set(d.id, l);
    }
    return out;
  }

  private asnSubject(s: Subject, asn: AsnResult, tol: Tolerances) {
    const correlationKey = `asn-match:${s.partner}:${s.poNumber}`;
    const counts = countKinds(asn.findings);
    const finding: MatchFinding | null = asn.findings.length
      ? this.finding(s, {
          code: 'PROCUREMENT.ASN_MISMATCH',
          title: `Ship notice for PO ${s.poNumber} does not match: ${counts}`,
          references: { po: s.poNumber, asn: asn.latest.shipmentId, supplier: s.partner },
          ...(asn.amountAtRisk > 0 ? { amountAtRisk: { amount: asn.amountAtRisk, currency: asn.latest.currency ?? tol.currency } } : {}),
          correlationKey,
          attributes: { partner: s.partner, findings: asn.findings, shipments: asn.shipmentIds, tolerances: tol },
        })
      : null;
    return { subjectKey: `${s.key}|asn`, kind: 'asn' as const, fingerprint: fingerprint(asn.findings), correlationKey, finding };
  }

  private invoiceSubject(s: Subject, inv: InvoiceResult, tol: Tolerances) {
    const correlationKey = `invoice-match:${s.partner}:${s.poNumber}:${inv.invoiceNumber}`;
    const finding: MatchFinding | null = inv.findings.length
      ? this.finding(s, {
          code: 'FINANCE.INVOICE_DISCREPANCY',
          title: `Invoice ${inv.invoiceNumber} for PO ${s.poNumber} (${inv.mode}): ${countKinds(inv.findings)}`,
          references: { po: s.poNumber, invoice: inv.invoiceNumber, supplier: s.partner },
          ...(inv.amountAtRisk > 0 ? { amountAtRisk: { amount: inv.amountAtRisk, currency: inv.invoice.currency ?? tol.currency } } : {}),
          correlationKey,
          attributes: { partner: s.partner, mode: inv.mode, findings: inv.findings, invoiceTotal: inv.invoiceTotal, expectedTotal: inv.expectedTotal, tolerances: tol },
        })
      : null;
    return { subjectKey: invoiceKey(s, inv.invoiceNumber), kind: 'invoice' as const, fingerprint: fingerprint(inv.findings), correlationKey, finding };
  }

  private finding(s: Subject, draft: Record<string, unknown>): MatchFinding {
    return {
      messageId: s.trigger.messageId, connectorId: s.trigger.connectorId, documentType: s.trigger.type, testMode: s.testMode,
      occurredAt: new Date(), policyVersion: this.policy.current().version, draft,
    };
  }
}

function countKinds(findings: { kind: string }[]): string {
  const n = new Map<string, number>();
  for (const f of findings) n.set(f.kind, (n.get(f.kind) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c} ${k.replace(/_/g, ' ')}`).join(', ');
}

/** Findings recorded per batch within the transaction (bounds memory on very large documents). */
const RAISE_CHUNK = 250;

const invoiceKey = (s: SubjectRef, invoiceNumber: string) => `${s.key}|invoice:${invoiceNumber}`;

const digest = (parts: (string | null)[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

function docLabel(d: Trigger): string {
  return `${d.type.replace(/_/g, ' ')} ${d.invoiceNumber ?? d.shipmentId ?? d.poNumber ?? d.documentId}`;
}

function toMatchDocument(d: Head, poNumber: string, lines: MatchDocument['lines']): MatchDocument {
  return {
    id: d.id, messageId: d.message_id, receivedAt: d.receivedAt, type: d.type as MatchDocument['type'],
    // Kept lines are already this PO's (a multi-PO ship notice has one row per PO).
    poNumbers: [poNumber], shipmentId: d.shipment_id ?? undefined, invoiceNumber: d.invoice_number ?? undefined,
    documentDate: d.document_date ?? undefined, dates: d.dates ?? undefined, currency: d.currency ?? undefined, lines,
  };
}
