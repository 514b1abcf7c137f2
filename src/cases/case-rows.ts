import type { EntityManager } from 'typeorm';

/*
 * The two set-based statements of case intake: all exceptions of a batch in one INSERT, all its cases
 * opened or joined in one upsert. Raw SQL: unnest over the whole batch, which TypeORM's builders
 * cannot express (and cost about twice the CPU per row where they can).
 */

/** One exception as stored (`exceptions` row). */
export interface ExceptionRow {
  id: string;
  messageId: string;
  ordinal: number;
  code: string;
  category: string;
  severity: string;
  title: string;
  connectorId: string;
  documentType: string;
  testMode: boolean;
  businessUnit: string | null;
  site: string | null;
  orderRef: string | null;
  poRef: string | null;
  customerRef: string | null;
  supplierRef: string | null;
  sku: string | null;
  customerTier: string | null;
  amountAtRisk: string | null;
  currency: string | null;
  occurredAt: Date;
  detectedAt: Date;
  correlationKey: string;
  mappingId: string;
  mappingVersion: string;
  caseId: string | null;
  payload: Record<string, unknown>;
  fingerprint: string | null;
  occurrences: number;
}

export async function insertExceptions(m: EntityManager, rows: ExceptionRow[], now: Date): Promise<void> {
  const col = <K extends keyof ExceptionRow>(k: K) => rows.map((r) => r[k]);
  await m.query(
    `INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, test_mode,
                             business_unit, site, order_ref, po_ref, customer_ref, supplier_ref, sku, customer_tier,
                             amount_at_risk, currency, occurred_at, detected_at, correlation_key, mapping_id, mapping_version, case_id, payload,
                             fingerprint, occurrences, last_seen_at)
     SELECT *, $30::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[],
                          $10::boolean[], $11::varchar[], $12::varchar[], $13::varchar[], $14::varchar[], $15::varchar[], $16::varchar[], $17::varchar[],
                          $18::varchar[], $19::numeric[], $20::char(3)[], $21::timestamptz[], $22::timestamptz[], $23::varchar[], $24::varchar[],
                          $25::varchar[], $26::uuid[], $27::jsonb[], $28::varchar[], $29::int[])`,
    [
      col('id'), col('messageId'), col('ordinal'), col('code'), col('category'), col('severity'), col('title'), col('connectorId'),
      col('documentType'), col('testMode'), col('businessUnit'), col('site'), col('orderRef'), col('poRef'), col('customerRef'),
      col('supplierRef'), col('sku'), col('customerTier'), col('amountAtRisk'), col('currency'), col('occurredAt'), col('detectedAt'),
      col('correlationKey'), col('mappingId'), col('mappingVersion'), col('caseId'), rows.map((r) => JSON.stringify(r.payload)),
      col('fingerprint'), col('occurrences'), now,
    ],
  );
}

/** One column per case field, one entry per case of the batch (sorted by key). */
export interface CaseColumns {
  id: string[];
  key: string[];
  title: string[];
  kind: string[];
  code: string[];
  category: string[];
  severity: string[];
  team: string[];
  bu: (string | null)[];
  site: (string | null)[];
  test: boolean[];
  count: number[];
  amount: (string | null)[];
  currency: (string | null)[];
  routing: string[];
}

export interface UpsertedCase {
  id: string;
  correlation_key: string;
  opened: boolean;
  owner_team: string;
  exception_count: number;
  severity: string;
}

/**
 * One INSERT .. ON CONFLICT over the partial unique index (open cases per correlation key) opens or
 * joins every case of the batch in one statement, race-free across workers. TypeORM's upsert cannot
 * express the partial-index conflict target or the merge arithmetic.
 */
export async function upsertCaseRows(m: EntityManager, cols: CaseColumns, now: Date): Promise<UpsertedCase[]> {
  return m.query(
    `INSERT INTO cases (id, correlation_key, title, code, category, severity, owner_team, business_unit, site,
                        test_mode, exception_count, amount_at_risk, currency, opened_at, updated_at, routing, status, kind)
     SELECT u.id, u.key, u.title, u.code, u.category, u.severity, u.team, u.bu, u.site,
            u.test, u.count, u.amount, u.currency, $15, $15, u.routing, 'open', u.kind
       FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[],
                   $8::varchar[], $9::varchar[], $10::boolean[], $11::int[], $12::numeric[], $13::char(3)[], $14::jsonb[], $16::varchar[])
            AS u(id, key, title, code, category, severity, team, bu, site, test, count, amount, currency, routing, kind)
     ON CONFLICT (correlation_key) WHERE status <> 'resolved' DO UPDATE SET
       exception_count = cases.exception_count + EXCLUDED.exception_count,
       severity = CASE WHEN EXCLUDED.severity = 'critical' OR (EXCLUDED.severity = 'standard' AND cases.severity = 'info')
                       THEN EXCLUDED.severity ELSE cases.severity END,
       amount_at_risk = CASE WHEN EXCLUDED.amount_at_risk IS NULL THEN cases.amount_at_risk
                             WHEN cases.currency IS NULL OR cases.currency = EXCLUDED.currency
                             THEN COALESCE(cases.amount_at_risk, 0) + EXCLUDED.amount_at_risk
                             ELSE cases.amount_at_risk END,
       currency = COALESCE(cases.currency, EXCLUDED.currency),
       updated_at = EXCLUDED.updated_at
     RETURNING id, correlation_key, (xmax = 0) AS opened, owner_team, exception_count, severity`,
    [cols.id, cols.key, cols.title, cols.code, cols.category, cols.severity, cols.team, cols.bu, cols.site, cols.test,
     cols.count, cols.amount, cols.currency, cols.routing, now, cols.kind],
  );
}
