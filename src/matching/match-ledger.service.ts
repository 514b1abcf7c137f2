import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { returnedRows } from '../database/returning.js';
import type { KeptLines, MatchedLinesRow } from './matched-lines.js';
import type { ExpectedKind } from './matching.entities.js';

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

export interface DueTimer {
  id: string;
  partner: string;
  po_number: string;
  test_mode: boolean;
  kind: ExpectedKind;
  due_at: Date;
  connector_id: string;
  message_id: string;
  correlation_key: string;
}

/**
 * The matching tables, inside the caller's transaction: the matched lines kept with each document
 * (`document_match_lines`), the last result per subject (`document_matches`) and the expected-document
 * timers (`expected_documents`).
 */
@Injectable()
export class MatchLedger {
  /**
   * Keeps the matched lines of documents just stored (a document already kept, on a re-run, is left as
   * it is) and takes one lock per partner + PO, in one round trip. Locks are taken in hash order (no
   * deadlock between workers); whoever stores the PO and whoever stores its ship notice serialize here,
   * and the second one's next statement sees the first's commit.
   */
  async keepLinesAndLock(m: EntityManager, rows: MatchedLinesRow[], subjectKeys: string[]): Promise<void> {
    // PostgreSQL hashes the normalised jsonb, so the same content hashes the same however it was written (here or by the backfill).
    await m.query(
      `WITH locked AS (
         SELECT count(pg_advisory_xact_lock(h)) AS n
           FROM (SELECT DISTINCT hashtextextended(current_schema() || ':match:' || k, 0) AS h FROM unnest($2::text[]) AS k ORDER BY 1) s)
       INSERT INTO document_match_lines (document_id, po_number, partner, test_mode, type, message_id, connector_id, shipment_id, invoice_number,
                                         received_at, document_date, dates, currency, requested_delivery, lines, content_hash)
       SELECT r."documentId", r."poNumber", r.partner, r."testMode", r.type, r."messageId", r."connectorId", r."shipmentId", r."invoiceNumber",
              r."receivedAt", r."documentDate", r.dates, r.currency, r."requestedDelivery", r.lines,
              md5(jsonb_build_array(r."documentDate", r.dates, r.currency, r.lines)::text)
         FROM locked, jsonb_to_recordset($1::jsonb) AS r("documentId" uuid, "poNumber" varchar, partner varchar, "testMode" boolean, type varchar, "messageId" uuid,
              "connectorId" varchar, "shipmentId" varchar, "invoiceNumber" varchar, "receivedAt" timestamptz, "documentDate" varchar, dates jsonb,
              currency varchar, "requestedDelivery" varchar, lines jsonb)
       ON CONFLICT (document_id, po_number) DO NOTHING`,
      [JSON.stringify(rows), subjectKeys],
    );
  }

  /**
   * Every kept document of the subject (without lines) and the last results of its ship notices and
   * invoices (any that may be wanted: a superset of the current ones), in one round trip.
   */
  async subjectState(m: EntityManager, s: SubjectRef): Promise<{ documents: MatchedDocumentHead[]; results: Map<string, LastResult> }> {
    const rows: (MatchedDocumentHead & { results: [string, string, boolean, string | null][] })[] = await m.query(
      `WITH heads AS (
         SELECT document_id, type, message_id, connector_id, shipment_id, invoice_number, received_at, document_date, dates, currency, requested_delivery, content_hash
           FROM document_match_lines WHERE partner = $1 AND po_number = $2 AND test_mode = $3)
       SELECT h.*, (SELECT COALESCE(jsonb_agg(jsonb_build_array(r.subject_key, r.fingerprint, r.has_findings, r.inputs_digest)), '[]'::jsonb)
                      FROM document_matches r
                     WHERE r.subject_key IN (SELECT $4::text || '|asn' UNION SELECT $4::text || '|invoice:' || COALESCE(i.invoice_number, i.document_id::text) FROM heads i WHERE i.type = 'invoice')
                   ) AS results
         FROM heads h`,
      [s.partner, s.poNumber, s.testMode, s.key],
    );
    const results = new Map<string, LastResult>(
      (rows[0]?.results ?? []).map(([subject_key, fingerprint, has_findings, inputs_digest]) => [subject_key, { subject_key, fingerprint, has_findings, inputs_digest }]),
    );
    return { documents: rows.map(({ results: _, ...head }) => head), results };
  }

  /** The matched lines of these documents for this PO. */
  async linesOf(m: EntityManager, poNumber: string, documentIds: string[]): Promise<Map<string, KeptLines>> {
    const rows: { document_id: string; lines: KeptLines }[] = await m.query(
      `SELECT document_id, lines FROM document_match_lines WHERE document_id = ANY($1::uuid[]) AND po_number = $2`,
      [documentIds, poNumber],
    );
    return new Map(rows.map((r) => [r.document_id, r.lines]));
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

  /** New timers of a subject's purchase order; a timer already there keeps its due time. */
  async planTimers(m: EntityManager, s: Pick<SubjectRef, 'partner' | 'poNumber' | 'testMode'>, po: { connector_id: string; message_id: string },
    timers: { kind: ExpectedKind; dueAt: Date; correlationKey: string }[]): Promise<void> {
    await m.query(
      `INSERT INTO expected_documents (id, partner, po_number, test_mode, kind, status, due_at, connector_id, message_id, correlation_key, created_at)
       SELECT u.id, $1, $2, $3, u.kind, 'waiting', u.due_at, $4, $5, u.correlation_key, now()
         FROM unnest($6::uuid[], $7::varchar[], $8::timestamptz[], $9::varchar[]) AS u(id, kind, due_at, correlation_key)
       ON CONFLICT (partner, po_number, test_mode, kind) DO NOTHING`,
      [
        s.partner, s.poNumber, s.testMode, po.connector_id, po.message_id,
        timers.map(() => uuidv7()), timers.map((t) => t.kind), timers.map((t) => t.dueAt), timers.map((t) => t.correlationKey),
      ],
    );
  }

  /** Fulfils the subject's open timers of these kinds, in one statement; each with the status it had (raised: its case is to be cleared). */
  async fulfilTimers(m: EntityManager, s: Pick<SubjectRef, 'partner' | 'poNumber' | 'testMode'>, kinds: ExpectedKind[]) {
    return returnedRows<{ kind: ExpectedKind; status: 'waiting' | 'raised'; correlation_key: string; due_at: Date }>(
      await m.query(
        `WITH open AS (
           SELECT id, status FROM expected_documents
            WHERE partner = $1 AND po_number = $2 AND test_mode = $3 AND kind = ANY($4::varchar[]) AND status IN ('waiting', 'raised') FOR UPDATE)
         UPDATE expected_documents e SET status = 'fulfilled', settled_at = now() FROM open
          WHERE e.id = open.id RETURNING e.kind, open.status, e.correlation_key, e.due_at`,
        [s.partner, s.poNumber, s.testMode, kinds],
      ),
    );
  }

  /** Waiting timers due at `now`, oldest first, locked; timers another process holds are skipped. */
  dueTimers(m: EntityManager, now: Date, limit: number): Promise<DueTimer[]> {
    return m.query(
      `SELECT id, partner, po_number, test_mode, kind, due_at, connector_id, message_id, correlation_key FROM expected_documents
        WHERE status = 'waiting' AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
  }

  async markTimersRaised(m: EntityManager, ids: string[], at: Date): Promise<void> {
    await m.query(`UPDATE expected_documents SET status = 'raised', settled_at = $2 WHERE id = ANY($1::uuid[])`, [ids, at]);
  }
}
