import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { ParsedDocument } from '../connectors/connector.js';
import { BusinessDocumentRecord } from './business-document.entity.js';
import type { WritePart } from '../database/joint-write.js';
import { prepared } from '../database/prepared.js';

/** The CTE of `record`'s statement holding the ids it wrote (for a write that goes with it). */
export const STORED_DOCUMENTS = 'stored_documents';

/** Documents per INSERT (a large file's thousands of documents in a few statements). */
const CHUNK = 500;

/**
 * The INSERT of a chunk of documents from one JSON parameter (the rows as an array of objects). Not
 * unnest over arrays: a payload inside an array literal is escaped and parsed twice (measured in the pipeline: 2.5
 * against 2.0 ms per 200-line document), and one JSON text keeps the statement's text fixed.
 */
const INSERT_DOCUMENTS = `INSERT INTO business_documents (id, message_id, ordinal, type, connector_id, partner, po_number, shipment_id, depositor_order,
                                   invoice_number, test_mode, received_at, mapping_id, payload)
   SELECT r.id, r."messageId", r.ordinal, r.type, r."connectorId", r.partner, r."poNumber", r."shipmentId", r."depositorOrder",
          r."invoiceNumber", r."testMode", r."receivedAt", r."mappingId", r.payload
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, "messageId" uuid, ordinal int, type varchar, "connectorId" varchar, partner varchar, "poNumber" varchar,
          "shipmentId" varchar, "depositorOrder" varchar, "invoiceNumber" varchar, "testMode" boolean, "receivedAt" timestamptz, "mappingId" varchar, payload jsonb)
   ON CONFLICT DO NOTHING RETURNING id`;

export interface DocumentQuery {
  type?: string;
  po?: string;
  shipment?: string;
  depositorOrder?: string;
  invoice?: string;
  connectorId?: string;
  after?: string;
  limit: number;
}

export interface RelatedDocument {
  id: string;
  type: string;
  messageId: string;
  receivedAt: Date;
  payload: Record<string, unknown>;
}

/** Canonical business documents: stored by the pipeline, read by mappings (related documents) and the API. */
@Injectable()
export class DocumentLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The rows `record` stores for these parsed documents, with their ids (so a caller can prepare writes that go with them). */
  rowsFor(items: { messageId: string; connectorId: string; receivedAt: Date; mappingId: string | null; docs: ParsedDocument[] }[]): BusinessDocumentRecord[] {
    return items.flatMap((it) =>
      it.docs.map((d, ordinal) => ({
        id: uuidv7(),
        messageId: it.messageId,
        ordinal,
        type: d.documentType,
        connectorId: it.connectorId,
        partner: d.store?.partner ?? null,
        poNumber: d.store?.poNumber ?? null,
        shipmentId: d.store?.shipmentId ?? null,
        depositorOrder: d.store?.depositorOrder ?? null,
        invoiceNumber: d.store?.invoiceNumber ?? null,
        testMode: d.testMode ?? false,
        receivedAt: it.receivedAt,
        mappingId: it.mappingId,
        payload: d.payload as Record<string, unknown>,
      })),
    );
  }

  /**
   * Stores the documents (`rowsFor`); returns those actually written (a document of a message already
   * stored is left as it was). `alongside` gives, per chunk of rows, a write for the same statement: it
   * may read the ids written by this chunk from the CTE `STORED_DOCUMENTS` (the pipeline keeps the
   * matched lines of the documents written, and takes matching's locks, without a round trip of its own).
   * Raw SQL: TypeORM's insert builder cannot carry the other write.
   */
  async record(m: EntityManager, rows: BusinessDocumentRecord[], alongside?: (chunk: BusinessDocumentRecord[]) => WritePart | null): Promise<BusinessDocumentRecord[]> {
    const written = new Set<string>();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const args = [JSON.stringify(chunk)];
      const part = alongside?.(chunk) ?? null;
      const text = part
        ? `WITH ${STORED_DOCUMENTS} AS (${INSERT_DOCUMENTS}), ${part.ctes ? `${part.ctes(args.length + 1, '_d')}, ` : ''}alongside AS (${part.sql(args.length + 1, '_d')})
           SELECT id FROM ${STORED_DOCUMENTS}`
        : INSERT_DOCUMENTS;
      for (const r of await prepared<{ id: string }>(m, text, part ? [...args, ...part.args] : args)) written.add(r.id);
    }
    return rows.filter((r) => written.has(r.id));
  }

  /** Earlier documents that share a PO, depositor order or shipment with this one (for cross-document mappings). */
  async relatedTo(m: EntityManager, connectorId: string, refs: NonNullable<ParsedDocument['store']>, testMode: boolean): Promise<RelatedDocument[]> {
    const conds: string[] = [];
    // Same partner and same world (test or production): another partner's PO number is not ours.
    const params: unknown[] = [connectorId, refs.partner ?? null, testMode];
    for (const [col, v] of [['po_number', refs.poNumber], ['depositor_order', refs.depositorOrder], ['shipment_id', refs.shipmentId]] as const) {
      if (v) {
        params.push(v);
        conds.push(`${col} = $${params.length}`);
      }
    }
    if (!conds.length) return [];
    const rows: { id: string; type: string; message_id: string; received_at: Date; payload: Record<string, unknown> }[] = await m.query(
      `SELECT id, type, message_id, received_at, payload FROM business_documents
        WHERE connector_id = $1 AND partner IS NOT DISTINCT FROM $2 AND test_mode = $3 AND (${conds.join(' OR ')})
        ORDER BY received_at DESC LIMIT 20`,
      params,
    );
    return rows.map((r) => ({ id: r.id, type: r.type, messageId: r.message_id, receivedAt: r.received_at, payload: r.payload }));
  }

  async find(q: DocumentQuery) {
    const qb = this.ds.getRepository(BusinessDocumentRecord).createQueryBuilder('d').orderBy('d.id', 'DESC').limit(q.limit);
    const eq = { type: 'type', po: 'poNumber', shipment: 'shipmentId', depositorOrder: 'depositorOrder', invoice: 'invoiceNumber', connectorId: 'connectorId' } as const;
    for (const [key, col] of Object.entries(eq)) {
      const v = q[key as keyof typeof eq];
      if (v !== undefined) qb.andWhere(`d.${col} = :${key}`, { [key]: v });
    }
    if (q.after) qb.andWhere('d.id < :after', { after: q.after });
    const items = await qb.getMany();
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }

  get(id: string) {
    return this.ds.getRepository(BusinessDocumentRecord).findOne({ where: { id } });
  }
}
