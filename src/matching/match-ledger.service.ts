import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { KeptLines, MatchedLinesRow } from './matched-lines.js';

/** One partner's PO in one world (test or production). */
export interface SubjectRef {
  key: string;
  partner: string;
  testMode: boolean;
  poNumber: string;
}

/** A document of a subject without its lines: enough to pick the current documents, plan timers and decide whether to match. */
export interface MatchedDocumentHead {
  document_id: string;
  type: string;
  message_id: string;
  connector_id: string;
  shipment_id: string | null;
  invoice_number: string | null;
  received_at: Date;
  document_date: string | null;
  dates: Record<string, string> | null;
  currency: string | null;
  requested_delivery: string | null;
  content_hash: string;
}

export interface LastResult {
  subject_key: string;
  fingerprint: string;
  has_findings: boolean;
  inputs_digest: string | null;
}

export interface ResultRow {
  subjectKey: string;
  kind: 'asn' | 'invoice';
  fingerprint: string;
  hasFindings: boolean;
  correlationKey: string;
  inputsDigest: string;
}

/**
 * The matching tables, inside the caller's transaction: the matched lines kept with each document
 * (`document_match_lines`) and the last result per subject (`document_matches`).
 */
@Injectable()
export class MatchLedger {
  /** Keeps the matched lines of documents just stored; a document already kept (a re-run) is left as it is. */
  async recordLines(m: EntityManager, rows: MatchedLinesRow[]): Promise<void> {
    if (!rows.length) return;
    // PostgreSQL hashes the normalised jsonb, so the same content hashes the same however it was written (here or by the backfill).
    await m.query(
      `INSERT INTO document_match_lines (document_id, po_number, partner, test_mode, type, message_id, connector_id, shipment_id, invoice_number,
                                         received_at, document_date, dates, currency, requested_delivery, lines, content_hash)
       SELECT r."documentId", r."poNumber", r.partner, r."testMode", r.type, r."messageId", r."connectorId", r."shipmentId", r."invoiceNumber",
              r."receivedAt", r."documentDate", r.dates, r.currency, r."requestedDelivery", r.lines,
              md5(jsonb_build_array(r."documentDate", r.dates, r.currency, r.lines)::text)
         FROM jsonb_to_recordset($1::jsonb) AS r("documentId" uuid, "poNumber" varchar, partner varchar, "testMode" boolean, type varchar, "messageId" uuid,
              "connectorId" varchar, "shipmentId" varchar, "invoiceNumber" varchar, "receivedAt" timestamptz, "documentDate" varchar, dates jsonb,
              currency varchar, "requestedDelivery" varchar, lines jsonb)
       ON CONFLICT (document_id, po_number) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * One lock per partner + PO, in hash order (no deadlock between workers). Whoever stores the PO and
   * whoever stores its ship notice serialize here; the second one's reads see the first's commit.
   */
  async lockSubjects(m: EntityManager, keys: string[]): Promise<void> {
    await m.query(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(current_schema() || ':match:' || k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,
      [keys],
    );
  }

  /** Every kept document of the subject, without lines. */
  documentsOf(m: EntityManager, s: SubjectRef): Promise<MatchedDocumentHead[]> {
    return m.query(
      `SELECT document_id, type, message_id, connector_id, shipment_id, invoice_number, received_at, document_date, dates, currency, requested_delivery, content_hash
         FROM document_match_lines WHERE partner = $1 AND po_number = $2 AND test_mode = $3`,
      [s.partner, s.poNumber, s.testMode],
    );
  }

  /** The matched lines of these documents for this PO. */
  async linesOf(m: EntityManager, poNumber: string, documentIds: string[]): Promise<Map<string, KeptLines>> {
    const rows: { document_id: string; lines: KeptLines }[] = await m.query(
      `SELECT document_id, lines FROM document_match_lines WHERE document_id = ANY($1::uuid[]) AND po_number = $2`,
      [documentIds, poNumber],
    );
    return new Map(rows.map((r) => [r.document_id, r.lines]));
  }

  async lastResults(m: EntityManager, subjectKeys: string[]): Promise<Map<string, LastResult>> {
    if (!subjectKeys.length) return new Map();
    const rows: LastResult[] = await m.query(
      `SELECT subject_key, fingerprint, has_findings, inputs_digest FROM document_matches WHERE subject_key = ANY($1::varchar[])`,
      [subjectKeys],
    );
    return new Map(rows.map((r) => [r.subject_key, r]));
  }

  async saveResults(m: EntityManager, s: SubjectRef, rows: ResultRow[]): Promise<void> {
    if (!rows.length) return;
    await m.query(
      `INSERT INTO document_matches (subject_key, partner, po_number, test_mode, kind, fingerprint, has_findings, correlation_key, inputs_digest, updated_at)
       SELECT u.subject_key, $1, $2, $3, u.kind, u.fingerprint, u.has_findings, u.correlation_key, u.inputs_digest, now()
         FROM unnest($4::varchar[], $5::varchar[], $6::text[], $7::boolean[], $8::varchar[], $9::varchar[])
              AS u(subject_key, kind, fingerprint, has_findings, correlation_key, inputs_digest)
       ON CONFLICT (subject_key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, has_findings = EXCLUDED.has_findings, inputs_digest = EXCLUDED.inputs_digest, updated_at = now()`,
      [
        s.partner, s.poNumber, s.testMode,
        rows.map((r) => r.subjectKey), rows.map((r) => r.kind), rows.map((r) => r.fingerprint), rows.map((r) => r.hasFindings),
        rows.map((r) => r.correlationKey), rows.map((r) => r.inputsDigest),
      ],
    );
  }
}
