import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { arrayParams, type WritePart } from '../database/joint-write.js';
import { prepared } from '../database/prepared.js';
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

/** The trigger message's exception count (before matching's) and source, as the pipeline wrote them. */
export interface MessageSource {
  exception_count: number;
  connector_type: string;
  sender_event_id: string | null;
}

/** Exceptions matching recorded on a message: added to its count; `opens`: one opened a case (status routed). */
export interface MessageCount {
  id: string;
  n: number;
  opens: boolean;
}

/** A timer of a purchase order to write with the end of the run (`finish`). */
export interface NewTimer {
  partner: string;
  poNumber: string;
  testMode: boolean;
  kind: ExpectedKind;
  dueAt: Date;
  connectorId: string;
  messageId: string;
  correlationKey: string;
  /** Its document is already stored (it came first, or in the same batch). */
  fulfilled: boolean;
}

export interface FulfilledTimer {
  kind: ExpectedKind;
  /** The status it had: raised means its exception was recorded and the case is to be cleared. */
  status: 'waiting' | 'raised';
  correlation_key: string;
  due_at: string;
}

export interface SubjectState {
  documents: MatchedDocumentHead[];
  results: Map<string, LastResult>;
  fulfilled: FulfilledTimer[];
  message: MessageSource | null;
  /** Lines of earlier documents read with the state (see `subjectState`). */
  lines: Map<string, KeptLines>;
}

/** What a subject's state read asks for (`subjectState`, `stateRead`). */
export interface StateQuery {
  batchIds: string[];
  messageId: string;
  fulfil: { type: string; kind: ExpectedKind }[] | null;
}

/** The one row of the state read, as PostgreSQL returns it. */
export interface StateRow {
  heads: (MatchedDocumentHead & { in_batch: boolean })[];
  results: [string, string, boolean, string | null][];
  fulfilled: FulfilledTimer[];
  message: MessageSource | null;
  lines: Record<string, KeptLines>;
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
    await prepared(m, `WITH locked AS (${SUBJECT_LOCKS('$2')}) ${KEEP_LINES('$1', 'locked, ')} ON CONFLICT (document_id, po_number) DO NOTHING`, [JSON.stringify(rows), subjectKeys]);
  }

  /**
   * After the lock, in one round trip: every kept document of the subject (without lines), the last
   * results of its ship notices and invoices (any that may be wanted: a superset of the current ones),
   * the trigger message's exception count and source (the pipeline holds its row locked, so matching
   * numbers its exceptions in memory and writes the count once, in `finish`), the subject's open
   * timers that a present document fulfils (fulfilled here; each with the status it had: raised means
   * its case is to be cleared), and, when the batch brought a document with new content next to ship
   * notices or invoices (a match is then likely due), the lines of the subject's current purchase
   * order and ship notices (newest per shipment, as `newestBy` picks them) that the batch did not bring.
   * Lines still missing are read with `linesOf`; the batch's own are in memory.
   */
  async subjectState(m: EntityManager, s: SubjectRef, q: StateQuery): Promise<SubjectState> {
    const read = this.stateRead(s, q, 1);
    const [row] = await prepared<StateRow>(m, `WITH ${read.ctes} ${read.select}`, read.args);
    return this.toState(row);
  }

  /**
   * `subjectState`'s statement as parts for a caller's statement (the pipeline's message-status UPDATE,
   * which runs under the subject locks): CTEs and a final SELECT (one row, `toState` reads it),
   * parameters numbered from `first`. `message`: where the trigger message's count and source are read
   * (`inbound_messages`, or the caller's CTE that updates it and returns those columns).
   */
  stateRead(s: SubjectRef, q: StateQuery, first: number, message = 'inbound_messages'): { ctes: string; select: string; args: unknown[] } {
    const $ = (n: number) => `$${first + n - 1}`;
    const headCols = `document_id, type, message_id, connector_id, shipment_id, invoice_number, received_at, document_date, dates, currency, requested_delivery, content_hash`;
    const where = `partner = ${$(1)} AND po_number = ${$(2)} AND test_mode = ${$(3)}`;
    return {
      ctes: `heads AS MATERIALIZED (SELECT ${headCols}, document_id = ANY(${$(5)}::uuid[]) AS in_batch FROM document_match_lines WHERE ${where}),
       open AS (
         SELECT e.id, e.status FROM expected_documents e
          WHERE ${$(7)}::text[] IS NOT NULL AND e.partner = ${$(1)} AND e.po_number = ${$(2)} AND e.test_mode = ${$(3)} AND e.status IN ('waiting', 'raised')
            AND e.kind IN (SELECT k.kind FROM unnest(${$(7)}::text[], ${$(8)}::text[]) AS k(type, kind) WHERE k.type IN (SELECT type FROM heads))
            FOR UPDATE OF e),
       fulfilled AS (
         UPDATE expected_documents e SET status = 'fulfilled', settled_at = now() FROM open
          WHERE e.id = open.id RETURNING e.kind, open.status, e.correlation_key, e.due_at)`,
      select: `SELECT (SELECT COALESCE(json_agg(h), '[]') FROM heads h) AS heads,
              (SELECT COALESCE(json_agg(json_build_array(r.subject_key, r.fingerprint, r.has_findings, r.inputs_digest)), '[]')
                 FROM document_matches r
                WHERE r.subject_key IN (SELECT ${$(4)}::text || '|asn' UNION SELECT ${$(4)}::text || '|invoice:' || COALESCE(i.invoice_number, i.document_id::text) FROM heads i WHERE i.type = 'invoice')
              ) AS results,
              (SELECT COALESCE(json_agg(f), '[]') FROM fulfilled f) AS fulfilled,
              (SELECT json_build_object('exception_count', exception_count, 'connector_type', connector_type, 'sender_event_id', sender_event_id)
                 FROM ${message} WHERE id = ${$(6)}) AS message,
              (SELECT COALESCE(json_object_agg(l.document_id, l.lines), '{}')
                 FROM (SELECT DISTINCT ON (type, CASE WHEN type = 'ship_notice' THEN COALESCE(shipment_id, document_id::text) END) document_id, in_batch
                         FROM heads WHERE type IN ('purchase_order', 'ship_notice')
                        ORDER BY type, CASE WHEN type = 'ship_notice' THEN COALESCE(shipment_id, document_id::text) END, received_at DESC, document_id DESC) c
                 JOIN document_match_lines l ON l.document_id = c.document_id AND l.po_number = ${$(2)}
                WHERE NOT c.in_batch
                  AND EXISTS (SELECT 1 FROM heads x WHERE x.type IN ('ship_notice', 'invoice'))
                  AND EXISTS (SELECT 1 FROM heads b WHERE b.in_batch AND b.type IN ('purchase_order', 'ship_notice', 'invoice')
                                 AND NOT EXISTS (SELECT 1 FROM heads o WHERE NOT o.in_batch AND o.type = b.type AND o.content_hash = b.content_hash
                                                    AND o.shipment_id IS NOT DISTINCT FROM b.shipment_id AND o.invoice_number IS NOT DISTINCT FROM b.invoice_number))
              ) AS lines`,
      args: [s.partner, s.poNumber, s.testMode, s.key, q.batchIds, q.messageId, q.fulfil?.map((f) => f.type) ?? null, q.fulfil?.map((f) => f.kind) ?? null],
    };
  }

  /** The row of `stateRead`'s SELECT as the subject's state. */
  toState(row: StateRow): SubjectState {
    const results = new Map<string, LastResult>(
      row.results.map(([subject_key, fingerprint, has_findings, inputs_digest]) => [subject_key, { subject_key, fingerprint, has_findings, inputs_digest }]),
    );
    const documents = row.heads.map(({ in_batch: _, ...h }) => ({ ...h, received_at: new Date(h.received_at) }));
    return { documents, results, fulfilled: row.fulfilled, message: row.message, lines: new Map(Object.entries(row.lines)) };
  }

  /**
   * Keeps the matched lines of the documents a pipeline statement stores (`rows` of documents whose ids
   * the CTE `stored` holds: a document left as it was keeps its earlier lines) and takes the subject
   * locks of `keys`, as a write of that statement (DocumentLedger.record's `alongside`): matching's
   * first read then runs under the locks, with the lines kept, in the pipeline's next statement.
   */
  keepWith(stored: string, rows: MatchedLinesRow[], keys: string[]): WritePart {
    return {
      ctes: (p, tag) => `locked${tag} AS (${SUBJECT_LOCKS(`$${p + 1}`)})`,
      sql: (p, tag) => `${KEEP_LINES(`$${p}`, `locked${tag}, `)} WHERE r."documentId" IN (SELECT id FROM ${stored}) ON CONFLICT (document_id, po_number) DO NOTHING`,
      args: [JSON.stringify(rows), keys],
    };
  }

  /** The matched lines of these documents for this PO. */
  async linesOf(m: EntityManager, poNumber: string, documentIds: string[]): Promise<Map<string, KeptLines>> {
    if (!documentIds.length) return new Map();
    const rows = await prepared<{ document_id: string; lines: KeptLines }>(
      m,
      `SELECT document_id, lines FROM document_match_lines WHERE document_id = ANY($1::uuid[]) AND po_number = $2`,
      [documentIds, poNumber],
    );
    return new Map(rows.map((r) => [r.document_id, r.lines]));
  }

  /**
   * The end of a matching run, as writes for the caller's joint statement (`writeJointly`): the new
   * results of every subject matched, the new timers of its purchase orders (a timer already there keeps its due time; one whose document is
   * already stored is written fulfilled, the end state of "plan, then settle") and each message's
   * exception count raised by what matching recorded on it (routed when one opened a case). The parts
   * touch different tables and read nothing the others write, so one statement's single snapshot
   * changes nothing; an empty part is left out (an empty UPDATE would still fire the messages' reporting trigger).
   */
  finish(saves: (ResultRow & Omit<SubjectRef, 'key'>)[], messages: MessageCount[], timers: NewTimer[] = []): WritePart[] {
    const parts: WritePart[] = [];
    if (saves.length) {
      parts.push({
        sql: (p) => `INSERT INTO document_matches (subject_key, partner, po_number, test_mode, kind, fingerprint, has_findings, correlation_key, inputs_digest, updated_at)
       SELECT u.subject_key, u.partner, u.po_number, u.test_mode, u.kind, u.fingerprint, u.has_findings, u.correlation_key, u.inputs_digest, now()
         FROM unnest(${arrayParams(p, ['varchar', 'varchar', 'varchar', 'boolean', 'varchar', 'text', 'boolean', 'varchar', 'varchar'])})
              AS u(subject_key, partner, po_number, test_mode, kind, fingerprint, has_findings, correlation_key, inputs_digest)
       ON CONFLICT (subject_key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, has_findings = EXCLUDED.has_findings, inputs_digest = EXCLUDED.inputs_digest, updated_at = now()`,
        args: [
          saves.map((r) => r.subjectKey), saves.map((r) => r.partner), saves.map((r) => r.poNumber), saves.map((r) => r.testMode), saves.map((r) => r.kind),
          saves.map((r) => r.fingerprint), saves.map((r) => r.hasFindings), saves.map((r) => r.correlationKey), saves.map((r) => r.inputsDigest),
        ],
      });
    }
    if (timers.length) {
      parts.push({
        sql: (p) => `INSERT INTO expected_documents (id, partner, po_number, test_mode, kind, status, due_at, connector_id, message_id, correlation_key, created_at, settled_at)
       SELECT u.id, u.partner, u.po_number, u.test_mode, u.kind, CASE WHEN u.fulfilled THEN 'fulfilled' ELSE 'waiting' END, u.due_at, u.connector_id, u.message_id,
              u.correlation_key, now(), CASE WHEN u.fulfilled THEN now() END
         FROM unnest(${arrayParams(p, ['uuid', 'varchar', 'varchar', 'boolean', 'varchar', 'timestamptz', 'varchar', 'uuid', 'varchar', 'boolean'])})
              AS u(id, partner, po_number, test_mode, kind, due_at, connector_id, message_id, correlation_key, fulfilled)
       ON CONFLICT (partner, po_number, test_mode, kind) DO NOTHING`,
        args: [
          timers.map(() => uuidv7()), timers.map((t) => t.partner), timers.map((t) => t.poNumber), timers.map((t) => t.testMode), timers.map((t) => t.kind),
          timers.map((t) => t.dueAt), timers.map((t) => t.connectorId), timers.map((t) => t.messageId), timers.map((t) => t.correlationKey), timers.map((t) => t.fulfilled),
        ],
      });
    }
    if (messages.length) {
      parts.push({
        sql: (p) => `UPDATE inbound_messages im
          SET exception_count = im.exception_count + u.n,
              status = CASE WHEN u.opens AND im.status IN ('parsed', 'mapped') THEN 'routed' ELSE im.status END
         FROM unnest(${arrayParams(p, ['uuid', 'int', 'boolean'])}) AS u(id, n, opens)
        WHERE im.id = u.id`,
        args: [messages.map((c) => c.id), messages.map((c) => c.n), messages.map((c) => c.opens)],
      });
    }
    return parts;
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

/**
 * One transaction-scoped advisory lock per subject key (partner|world|PO) in the array parameter, taken
 * in hash order (no deadlock between workers); one row. Whoever stores the PO and whoever stores its
 * ship notice serialize on it, and the second one's next statement sees the first's commit. Taken by
 * `keepLinesAndLock`, or by the pipeline's INSERT of the documents (`keepWith`).
 */
export const SUBJECT_LOCKS = (keys: string) =>
  `SELECT count(pg_advisory_xact_lock(h)) AS n
     FROM (SELECT DISTINCT hashtextextended(current_schema() || ':match:' || k, 0) AS h FROM unnest(${keys}::text[]) AS k ORDER BY 1) s`;

/**
 * Keeps the matched lines of documents just stored (the jsonb array parameter `rows`); `from` is put
 * before the recordset in FROM (the lock CTE, to run after it). PostgreSQL hashes the normalised jsonb,
 * so the same content hashes the same however it was written (here or by the backfill).
 */
const KEEP_LINES = (rows: string, from: string) =>
  `INSERT INTO document_match_lines (document_id, po_number, partner, test_mode, type, message_id, connector_id, shipment_id, invoice_number,
                                    received_at, document_date, dates, currency, requested_delivery, lines, content_hash)
   SELECT r."documentId", r."poNumber", r.partner, r."testMode", r.type, r."messageId", r."connectorId", r."shipmentId", r."invoiceNumber",
          r."receivedAt", r."documentDate", r.dates, r.currency, r."requestedDelivery", r.lines,
          md5(jsonb_build_array(r."documentDate", r.dates, r.currency, r.lines)::text)
     FROM ${from}jsonb_to_recordset(${rows}::jsonb) AS r("documentId" uuid, "poNumber" varchar, partner varchar, "testMode" boolean, type varchar, "messageId" uuid,
          "connectorId" varchar, "shipmentId" varchar, "invoiceNumber" varchar, "receivedAt" timestamptz, "documentDate" varchar, dates jsonb,
          currency varchar, "requestedDelivery" varchar, lines jsonb)`;
