import type { MigrationInterface, QueryRunner } from 'typeorm';

// Generated from the entities (document_match_lines, document_matches.inputs_digest), reviewed, and a
// backfill added: the matched lines of every document already stored, so matching after the upgrade
// sees the documents that came before it. The projection below is a frozen copy of
// src/matching/matched-lines.ts at the time of writing (the same rows for the same payload; the
// content hash is computed the same way, by PostgreSQL).
const LINE_FIELDS = ['lineNumber', 'sku', 'vendorPart', 'buyerPart', 'upc', 'gtin', 'ean', 'poNumber', 'quantityOrdered', 'quantityShipped', 'quantityInvoiced', 'unitPrice'];
/** The document's lines that belong to PO `p.po`: all of them, except on a ship notice naming several POs. */
const LINES = `jsonb_array_elements(CASE WHEN d.type = 'po_acknowledgment' THEN '[]'::jsonb ELSE d.all_lines END) WITH ORDINALITY AS e(l, o)`;
const OF_PO = `jsonb_typeof(e.l) = 'object' AND (d.type <> 'ship_notice'
     OR CASE WHEN jsonb_typeof(e.l->'poNumber') = 'string' THEN e.l->>'poNumber' = p.po ELSE d.single_po END)`;
const FIELDS = `unnest(ARRAY[${LINE_FIELDS.map((f) => `'${f}'`).join(', ')}]) AS f(f)`;
/** KeptLines: { count, values: { field: [value or null per line] } } with the fields some line carries. */
const keptLines = `(SELECT jsonb_build_object('count', (SELECT count(*) FROM ${LINES} WHERE ${OF_PO}),
     'values', COALESCE(jsonb_object_agg(c.f, c.col) FILTER (WHERE c.present), '{}'::jsonb))
   FROM (SELECT f.f, jsonb_agg(COALESCE(e.l->f.f, 'null'::jsonb) ORDER BY e.o) AS col, bool_or(COALESCE(jsonb_typeof(e.l->f.f), 'null') <> 'null') AS present
           FROM ${LINES} CROSS JOIN ${FIELDS} WHERE ${OF_PO} GROUP BY f.f) c)`;

export class DocumentMatchLines1795811051101 implements MigrationInterface {
  name = 'DocumentMatchLines1795811051101';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "document_match_lines" ("document_id" uuid NOT NULL, "po_number" character varying(128) NOT NULL, "partner" character varying(128) NOT NULL, "test_mode" boolean NOT NULL, "type" character varying(64) NOT NULL, "message_id" uuid NOT NULL, "connector_id" character varying(64) NOT NULL, "shipment_id" character varying(128), "invoice_number" character varying(128), "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "document_date" character varying(32), "dates" jsonb, "currency" character varying(8), "requested_delivery" character varying(32), "lines" jsonb NOT NULL, "content_hash" character varying(32) NOT NULL, CONSTRAINT "PK_f2afbb6f2f05df0f583258dba46" PRIMARY KEY ("document_id", "po_number"))`);
    await queryRunner.query(`CREATE INDEX "IDX_document_match_lines_subject" ON "document_match_lines" ("partner", "po_number", "test_mode") `);
    await queryRunner.query(`ALTER TABLE "document_matches" ADD "inputs_digest" character varying(64)`);

    // Backfill. Documents stored while this runs by a hub of the previous release would have no row:
    // migrate before starting the new release (README, "Running in production").
    await queryRunner.query(`
      WITH docs AS (
        SELECT d.*,
               CASE WHEN jsonb_typeof(d.payload->'lines') = 'array' THEN d.payload->'lines' ELSE '[]'::jsonb END AS all_lines,
               CASE WHEN jsonb_typeof(d.payload->'poNumbers') = 'array' THEN d.payload->'poNumbers' ELSE '[]'::jsonb END AS header_pos,
               CASE WHEN jsonb_typeof(d.payload->'documentDate') = 'string' THEN d.payload->>'documentDate' END AS doc_date,
               CASE WHEN jsonb_typeof(d.payload->'dates') = 'object' THEN d.payload->'dates' END AS doc_dates,
               CASE WHEN jsonb_typeof(d.payload->'currency') = 'string' THEN d.payload->>'currency' END AS doc_currency,
               -- a ship notice's line without a PO number belongs to the notice's only PO
               (SELECT count(*) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d.payload->'poNumbers') = 'array' THEN d.payload->'poNumbers' ELSE '[]'::jsonb END) h
                 WHERE jsonb_typeof(h) = 'string' AND h #>> '{}' <> '') <= 1 AS single_po
          FROM "business_documents" d
         WHERE d.type IN ('purchase_order', 'ship_notice', 'invoice', 'po_acknowledgment') AND d.partner IS NOT NULL
           AND (d.payload->'duplicate') IS DISTINCT FROM 'true'::jsonb
      ), kept AS (
        SELECT d.*, p.po, ${keptLines} AS kept_lines
          FROM docs d
         CROSS JOIN LATERAL (
               SELECT d.po_number WHERE d.po_number <> ''
               UNION
               SELECT x #>> '{}' FROM jsonb_array_elements(CASE WHEN d.type = 'ship_notice' THEN d.header_pos || jsonb_path_query_array(d.all_lines, '$[*].poNumber') ELSE '[]'::jsonb END) x
                WHERE jsonb_typeof(x) = 'string' AND x #>> '{}' <> ''
         ) p(po)
      )
      INSERT INTO "document_match_lines" (document_id, po_number, partner, test_mode, type, message_id, connector_id, shipment_id, invoice_number,
                                          received_at, document_date, dates, currency, requested_delivery, lines, content_hash)
      SELECT k.id, k.po, k.partner, k.test_mode, k.type, k.message_id, k.connector_id, k.shipment_id, k.invoice_number, k.received_at,
             k.doc_date, k.doc_dates, k.doc_currency,
             CASE WHEN k.type = 'purchase_order' THEN (SELECT min(e.l->'dates'->>'requestedDelivery' COLLATE "C") FROM jsonb_array_elements(k.all_lines) AS e(l)
                                                        WHERE jsonb_typeof(e.l->'dates'->'requestedDelivery') = 'string') END,
             k.kept_lines, md5(jsonb_build_array(k.doc_date, k.doc_dates, k.doc_currency, k.kept_lines)::text)
        FROM kept k
      ON CONFLICT (document_id, po_number) DO NOTHING`);
    await queryRunner.query(`ANALYZE "document_match_lines"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "document_matches" DROP COLUMN "inputs_digest"`);
    await queryRunner.query(`DROP INDEX "IDX_document_match_lines_subject"`);
    await queryRunner.query(`DROP TABLE "document_match_lines"`);
  }
}
