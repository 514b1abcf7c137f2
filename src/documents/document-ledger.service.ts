import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { v7 as uuidv7 } from 'uuid';
import type { ParsedDocument } from '../connectors/connector.js';
import { BusinessDocumentRecord } from './business-document.entity.js';

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

  /** Stores the documents; returns those actually written (a document of a message already stored is left as it was). */
  async record(m: EntityManager, items: { messageId: string; connectorId: string; receivedAt: Date; mappingId: string | null; docs: ParsedDocument[] }[]): Promise<BusinessDocumentRecord[]> {
    const rows = items.flatMap((it) =>
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
    const written = new Set<string>();
    for (let i = 0; i < rows.length; i += 500) {
      const res = await m
        .createQueryBuilder()
        .insert()
        .into(BusinessDocumentRecord)
        .values(rows.slice(i, i + 500) as QueryDeepPartialEntity<BusinessDocumentRecord>[])
        .orIgnore()
        .returning(['id'])
        .updateEntity(false)
        .execute();
      for (const r of res.raw as { id: string }[]) written.add(r.id);
    }
    return rows.filter((r) => written.has(r.id)) as BusinessDocumentRecord[];
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
