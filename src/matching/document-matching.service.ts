import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RootCause } from '../canonical/taxonomy.js';
import type { AfterCommit } from '../cases/exception-recording.service.js';
import { fingerprint, matchDocuments, type AsnResult, type InvoiceResult, type MatchDocument, type MatchLine } from './document-match.js';
import { ExpectedDocuments } from './expected-documents.service.js';
import { MatchCases, type MatchFinding } from './match-cases.js';
import { tolerancesFor, type Tolerances } from './matching-policy.js';
import { MatchingPolicyStore } from './matching-policy.store.js';

const MATCHED_TYPES = ['purchase_order', 'ship_notice', 'invoice', 'po_acknowledgment'];

interface StoredDoc {
  id: string;
  type: string;
  connector_id: string;
  partner: string;
  po_number: string | null;
  shipment_id: string | null;
  invoice_number: string | null;
  test_mode: boolean;
  message_id: string;
  received_at: Date;
  /** Ship notices: every PO the notice names (header and lines). */
  po_numbers: string[] | null;
}

/** A stored document with its payload (read whole: measured faster than projecting the lines in SQL, 7 vs 21 ms for a 200-line PO + ASN + invoice). */
interface ProjectedDoc extends StoredDoc {
  payload: Record<string, any>;
}

const KEY_COLUMNS = 'id, type, connector_id, partner, po_number, shipment_id, invoice_number, test_mode, message_id, received_at';

/** One partner's PO in one world (test or production): what is matched together, under one lock. */
interface Subject {
  key: string;
  partner: string;
  testMode: boolean;
  poNumber: string;
  /** The newest document of this batch that concerns the subject: new exceptions are recorded on its message. */
  trigger: StoredDoc;
  /** Document types of this batch for the subject: timers are planned and settled only when a PO, 855 or 856 came. */
  types: Set<string>;
}

export interface MatchRunResult {
  subjects: number;
  raised: number;
  resolved: number;
  /** SLA alarms and action jobs of the cases raised and cleared, for the caller to settle after its commit. */
  after: AfterCommit[];
}

/**
 * Matches purchase orders, ship notices and invoices by partner + PO number + line, inside the
 * pipeline transaction right after the batch's documents are stored. Every document of the PO is
 * re-read and re-matched, so arrival order does not matter; per subject the last findings are kept in
 * `document_matches`: the same findings raise nothing new, findings that disappear resolve the case.
 */
@Injectable()
export class DocumentMatching {
  constructor(
    private readonly cases: MatchCases,
    private readonly expected: ExpectedDocuments,
    private readonly policy: MatchingPolicyStore,
  ) {}

  async afterDocumentsStored(m: EntityManager, messageIds: string[]): Promise<MatchRunResult> {
    const result: MatchRunResult = { subjects: 0, raised: 0, resolved: 0, after: [] };
    if (!messageIds.length) return result;
    const stored: StoredDoc[] = await m.query(
      `SELECT ${KEY_COLUMNS},
              CASE WHEN type = 'ship_notice' THEN payload->'poNumbers' || jsonb_path_query_array(payload, '$.lines[*].poNumber') END AS po_numbers
         FROM business_documents
        WHERE message_id = ANY($1::uuid[]) AND type = ANY($2::varchar[]) AND partner IS NOT NULL
          AND NOT COALESCE((payload->>'duplicate')::boolean, false)
        ORDER BY received_at, id`,
      [messageIds, MATCHED_TYPES],
    );
    const subjects = new Map<string, Subject>();
    for (const d of stored) {
      for (const po of poNumbersOf(d)) {
        const key = `${d.partner}|${d.test_mode ? 'test' : 'prod'}|${po}`;
        const seen = subjects.get(key);
        subjects.set(key, { key, partner: d.partner, testMode: d.test_mode, poNumber: po, trigger: d, types: new Set([...(seen?.types ?? []), d.type]) });
      }
    }
    if (!subjects.size) return result;
    const ordered = [...subjects.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // One lock per partner + PO, taken in key order (no deadlock between workers). Whoever stores the PO
    // and whoever stores its ship notice serialize here; the second one's reads see the first's commit.
    for (const s of ordered) {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':match:' || $1, 0))`, [s.key]);
    }
    const findings: MatchFinding[] = [];
    for (const s of ordered) {
      const docs: ProjectedDoc[] = await m.query(
        `SELECT ${KEY_COLUMNS}, payload
           FROM business_documents
          WHERE partner = $1 AND test_mode = $2 AND type = ANY($4::varchar[])
            AND (po_number = $3 OR (po_number IS NULL AND type = 'ship_notice' AND jsonb_exists(payload->'poNumbers', $3)))
            AND NOT COALESCE((payload->>'duplicate')::boolean, false)`,
        [s.partner, s.testMode, s.poNumber, MATCHED_TYPES],
      );
      const tol = tolerancesFor(this.policy.current(), s.partner);
      if (s.types.has('purchase_order')) await this.expected.plan(m, s, docs.filter((d) => d.type === 'purchase_order').map((d) => ({ ...d, dates: d.payload.dates ?? null, requested_delivery: earliestLineDelivery(d.payload) })), tol);
      if (s.types.has('purchase_order') || s.types.has('po_acknowledgment') || s.types.has('ship_notice')) {
        const settled = await this.expected.settle(m, s, new Set(docs.map((d) => d.type)), s.trigger);
        result.resolved += settled.resolved;
        result.after.push(...settled.after);
      }
      const outcome = matchDocuments(s.poNumber, docs.filter((d) => d.type !== 'po_acknowledgment').map(toMatchDocument), tol);
      const subjectResults = [
        ...(outcome.asn ? [this.asnSubject(s, outcome.asn, tol)] : []),
        ...outcome.invoices.map((inv) => this.invoiceSubject(s, inv, tol)),
      ];
      const prior = new Map<string, { fingerprint: string; has_findings: boolean }>(
        (await m.query(`SELECT subject_key, fingerprint, has_findings FROM document_matches WHERE subject_key = ANY($1::varchar[])`, [subjectResults.map((r) => r.subjectKey)])).map(
          (r: { subject_key: string; fingerprint: string; has_findings: boolean }) => [r.subject_key, r],
        ),
      );
      for (const r of subjectResults) {
        const before = prior.get(r.subjectKey);
        if (before?.fingerprint === r.fingerprint) continue;
        if (r.finding) findings.push(r.finding);
        else if (before?.has_findings) {
          const onlyUnknownPo = (JSON.parse(before.fingerprint) as [string][]).every(([kind]) => kind === 'po_unknown');
          const rootCause: RootCause = onlyUnknownPo ? 'NO_ISSUE' : 'SUPPLIER_ERROR';
          const by = `${docLabel(s.trigger)} (message ${s.trigger.message_id})`;
          const note = onlyUnknownPo ? `cleared: the purchase order arrived, ${by}` : `cleared by corrective document ${by}`;
          const cleared = await this.cases.clear(m, r.correlationKey, s.testMode, rootCause, note, { clearedBy: { documentId: s.trigger.id, messageId: s.trigger.message_id, type: s.trigger.type } });
          if (cleared) {
            result.resolved++;
            if (cleared.after) result.after.push(cleared.after);
          }
        }
        await m.query(
          `INSERT INTO document_matches (subject_key, partner, po_number, test_mode, kind, fingerprint, has_findings, correlation_key, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
           ON CONFLICT (subject_key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, has_findings = EXCLUDED.has_findings, updated_at = now()`,
          [r.subjectKey, s.partner, s.poNumber, s.testMode, r.kind, r.fingerprint, r.finding !== null, r.correlationKey],
        );
      }
    }
    result.subjects = ordered.length;
    const raised = await this.cases.raise(m, findings);
    result.raised = raised.raised;
    if (raised.after) result.after.push(raised.after);
    return result;
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
    return { subjectKey: `${s.key}|invoice:${inv.invoiceNumber}`, kind: 'invoice' as const, fingerprint: fingerprint(inv.findings), correlationKey, finding };
  }

  private finding(s: Subject, draft: Record<string, unknown>): MatchFinding {
    return {
      messageId: s.trigger.message_id, connectorId: s.trigger.connector_id, documentType: s.trigger.type, testMode: s.testMode,
      occurredAt: new Date(), policyVersion: this.policy.current().version, draft,
    };
  }
}

function countKinds(findings: { kind: string }[]): string {
  const n = new Map<string, number>();
  for (const f of findings) n.set(f.kind, (n.get(f.kind) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c} ${k.replace(/_/g, ' ')}`).join(', ');
}

function earliestLineDelivery(po: Record<string, any>): string | null {
  const dates = ((po.lines as { dates?: Record<string, string> }[] | undefined) ?? []).map((l) => l.dates?.requestedDelivery).filter((x): x is string => !!x);
  return dates.sort()[0] ?? null;
}

function docLabel(d: StoredDoc): string {
  return `${d.type.replace(/_/g, ' ')} ${d.invoice_number ?? d.shipment_id ?? d.po_number ?? d.id}`;
}

function poNumbersOf(d: StoredDoc): string[] {
  if (d.type !== 'ship_notice') return d.po_number ? [d.po_number] : [];
  return [...new Set((d.po_numbers ?? []).filter((p): p is string => typeof p === 'string'))];
}

function toMatchDocument(d: ProjectedDoc): MatchDocument {
  const p = d.payload;
  return {
    id: d.id, messageId: d.message_id, receivedAt: new Date(d.received_at), type: d.type as MatchDocument['type'],
    poNumbers: p.poNumbers, shipmentId: d.shipment_id ?? undefined, invoiceNumber: d.invoice_number ?? undefined,
    documentDate: p.documentDate, dates: p.dates, currency: p.currency, lines: (p.lines as MatchLine[] | undefined) ?? [],
  };
}
