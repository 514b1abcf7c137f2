/**
 * Seeds a reporting data set straight into PostgreSQL with generate_series (no HTTP, no queue):
 * cases, exceptions, audit touches, inbound messages and partner documents over a year, several
 * sites and partners. The rows go through the same triggers as the pipeline's, so the rollups are
 * built exactly as in production.
 *
 *   npm run seed:reports -- --exceptions 1000000 [--cases 300000] [--days 365]
 *   DATABASE_URL, HUB_DB_SCHEMA (default public) choose where; the schema must be migrated.
 */
import pg from 'pg';
import { parseArgs } from 'node:util';

export const SITES = [
  ['RNO1', 'west'], ['SEA2', 'west'], ['DAL2', 'south'], ['ATL1', 'south'], ['CHI3', 'central'], ['NJ04', 'east'],
] as const;
export const SUPPLIERS = ['S-ACME', 'S-GLOBEX', 'S-INITECH', 'S-UMBRELLA', 'S-STARK', 'S-WAYNE', 'S-TYRELL', 'S-CYBERDYNE'];
export const CUSTOMERS = Array.from({ length: 24 }, (_, i) => `C-${1001 + i}`);

/** Code mix per 200 exceptions: what a distributor sees most (shortfalls, invoices, ASNs), integration failures rare. */
const MIX: [string, number][] = [
  ['WAREHOUSE.PICK_SHORTFALL', 36], ['WAREHOUSE.INVENTORY_VARIANCE', 16], ['WAREHOUSE.DAMAGED_GOODS', 8], ['ORDER.CREDIT_HOLD', 16],
  ['ORDER.PRICING_MISMATCH', 12], ['ORDER.RELEASE_BLOCKED', 10], ['PROCUREMENT.ASN_MISMATCH', 16], ['PROCUREMENT.PO_ACK_REJECTED', 8],
  ['PROCUREMENT.SUPPLIER_DELIVERY_CHANGE', 10], ['FINANCE.INVOICE_DISCREPANCY', 18], ['FINANCE.TAX_ERROR', 4], ['LOGISTICS.SHIPMENT_DELAY', 16],
  ['LOGISTICS.SHIPMENT_HOLD', 6], ['INTEGRATION.EDI_SYNTAX_ERROR', 8], ['INTEGRATION.EDI_REJECTED', 4], ['INTEGRATION.EDI_DUPLICATE', 2],
  ['INTEGRATION.MAPPING_FAILED', 2], ['INTEGRATION.MALFORMED_PAYLOAD', 2], ['INTEGRATION.CONNECTOR_DOWN', 1], ['MASTERDATA.INCOMPLETE_CUSTOMER', 5],
  ['INTEGRATION.ACK_OVERDUE', 2],
];
const CODES = MIX.flatMap(([c, n]) => Array<string>(n).fill(c));

export interface SeedOptions {
  exceptions: number;
  cases?: number;
  days?: number;
  log?: (line: string) => void;
}

/** Seeds the data set in the pool's schema; returns row counts. */
export async function seedReports(db: pg.Pool | pg.Client, o: SeedOptions): Promise<Record<string, number>> {
  const nEx = o.exceptions;
  const nCases = Math.max(1, Math.min(o.cases ?? Math.round(nEx * 0.3), nEx));
  const days = o.days ?? 365;
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const step = async (what: string, sql: string, params: unknown[] = []) => {
    const t = Date.now();
    const r = await db.query(sql, params);
    log(`${what}: ${r.rowCount ?? 0} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r.rowCount ?? 0;
  };
  await db.query(`SELECT setseed(0.42)`);
  // A seed table of cases with their dimensions; exceptions, touches and outcomes derive from it.
  await db.query(`DROP TABLE IF EXISTS seed_cases`);
  await step('plan cases', `CREATE UNLOGGED TABLE seed_cases AS
    SELECT i, gen_random_uuid() AS id, c.code, split_part(c.code, '.', 1) AS category, s.site, s.bu,
           now() - random() * $3::int * interval '1 day' AS opened_at, (random() * 1000)::int AS r
      FROM generate_series(1, $1::int) i
     CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (hashint4(i) & 2147483647) % cardinality($2::text[])] AS code) c
     CROSS JOIN LATERAL (SELECT ($4::text[])[1 + i % 6] AS site, ($5::text[])[1 + i % 6] AS bu) s`,
    [nCases, CODES, days, SITES.map((s) => s[0]), SITES.map((s) => s[1])]);
  await db.query(`ALTER TABLE seed_cases ADD team text, ADD connector text, ADD supplier text, ADD customer text, ADD system text, ADD step text`);
  await db.query(`UPDATE seed_cases SET
      team = CASE category WHEN 'ORDER' THEN 'order-desk' WHEN 'WAREHOUSE' THEN 'warehouse-ops' WHEN 'PROCUREMENT' THEN 'procurement'
                           WHEN 'FINANCE' THEN 'accounts-payable' WHEN 'LOGISTICS' THEN 'transport' WHEN 'INTEGRATION' THEN 'integration-support' ELSE 'master-data' END,
      connector = CASE WHEN category IN ('WAREHOUSE', 'ORDER') OR code IN ('INTEGRATION.MAPPING_FAILED', 'INTEGRATION.MALFORMED_PAYLOAD', 'INTEGRATION.CONNECTOR_DOWN')
                         THEN 'wms-' || lower(site)
                       WHEN category IN ('PROCUREMENT', 'FINANCE', 'INTEGRATION') THEN 'edi-van' WHEN category = 'LOGISTICS' THEN 'tms-api' ELSE 'erp-core' END,
      supplier = CASE WHEN category IN ('PROCUREMENT', 'FINANCE') OR code LIKE 'INTEGRATION.EDI%' OR code = 'INTEGRATION.ACK_OVERDUE'
                        THEN ($1::text[])[1 + (r * 7 + i) % cardinality($1::text[])] END,
      customer = CASE WHEN category IN ('ORDER', 'WAREHOUSE', 'LOGISTICS', 'MASTERDATA') THEN ($2::text[])[1 + (r * 13 + i) % cardinality($2::text[])] END`,
    [SUPPLIERS, CUSTOMERS]);
  await db.query(`UPDATE seed_cases SET system = split_part(connector, '-', 1), step = CASE category WHEN 'WAREHOUSE' THEN 'pick' WHEN 'ORDER' THEN 'order-release'
      WHEN 'PROCUREMENT' THEN 'receiving' WHEN 'FINANCE' THEN 'invoice-match' WHEN 'LOGISTICS' THEN 'transport' WHEN 'INTEGRATION' THEN 'interface' ELSE 'master-data' END`);
  await db.query(`CREATE INDEX ON seed_cases (i)`);

  await step('cases', `INSERT INTO cases (id, status, correlation_key, title, code, category, severity, owner_team, business_unit, site, test_mode,
                         exception_count, amount_at_risk, currency, opened_at, updated_at, routing, ack_due_at, resolve_due_at)
    SELECT id, 'open', 'seed:' || i, 'Seeded ' || code, code, category, CASE WHEN code IN ('WAREHOUSE.PICK_SHORTFALL', 'INTEGRATION.CONNECTOR_DOWN') THEN 'critical' ELSE 'standard' END,
           team, bu, site, false, 1, CASE WHEN category IN ('ORDER', 'WAREHOUSE', 'FINANCE', 'PROCUREMENT') THEN round((50 + r * 9.5)::numeric, 2) END, 'USD',
           opened_at, opened_at, '{"policy":{"id":"default","version":"seed"},"ruleId":null,"reason":"seeded"}',
           opened_at + CASE WHEN code = 'WAREHOUSE.PICK_SHORTFALL' THEN interval '1 hour' ELSE interval '8 hours' END,
           opened_at + CASE WHEN code = 'WAREHOUSE.PICK_SHORTFALL' THEN interval '8 hours' ELSE interval '3 days' END
      FROM seed_cases ORDER BY i`);

  // Exceptions: the first of each case opens it (detected when it opened); the rest repeat within the case's life.
  const chunk = 200_000;
  let exceptions = 0;
  for (let from = 1; from <= nEx; from += chunk) {
    const to = Math.min(nEx, from + chunk - 1);
    exceptions += await step(`exceptions ${from}-${to}`, `INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, test_mode,
                               business_unit, site, order_ref, po_ref, customer_ref, supplier_ref, sku, customer_tier, amount_at_risk, currency,
                               occurred_at, detected_at, correlation_key, mapping_id, mapping_version, case_id, payload)
      SELECT gen_random_uuid(), gen_random_uuid(), 0, c.code, c.category, CASE WHEN c.code = 'WAREHOUSE.PICK_SHORTFALL' THEN 'critical' ELSE 'standard' END,
             'Seeded ' || c.code, c.connector, c.step, false, c.bu, c.site, 'SO-' || (c.i * 7 + g), 'PO-' || c.i, c.customer, c.supplier,
             'SKU-' || (c.r % 300), NULL, CASE WHEN c.category IN ('ORDER', 'WAREHOUSE', 'FINANCE', 'PROCUREMENT') THEN round((20 + random() * 400)::numeric, 2) END, 'USD',
             t.at, t.at, 'seed:' || c.i, 'seed', '1', c.id,
             jsonb_build_object('source', jsonb_build_object('system', c.system, 'connectorId', c.connector))
        FROM generate_series($1::int, $2::int) g
        JOIN seed_cases c ON c.i = CASE WHEN g <= $3::int THEN g ELSE 1 + (hashint4(g) & 2147483647) % $3::int END
       CROSS JOIN LATERAL (SELECT CASE WHEN g <= $3::int THEN c.opened_at ELSE least(now(), c.opened_at + random() * interval '36 hours') END AS at) t`,
      [from, to, nCases]);
  }
  await step('case counts', `UPDATE cases k SET exception_count = x.n FROM (SELECT case_id, count(*)::int AS n FROM exceptions WHERE correlation_key LIKE 'seed:%' GROUP BY case_id) x
     WHERE k.id = x.case_id AND k.exception_count <> x.n`);
  await step('manual touches', `INSERT INTO audit_events (occurred_at, actor_type, actor_id, entity_type, entity_id, action, after)
    SELECT c.opened_at + interval '10 minutes' * t, 'api-key', 'planner#ehk_seed', 'case', c.id::text, 'case.commented', '{"text":"seeded"}'
      FROM seed_cases c CROSS JOIN LATERAL generate_series(1, c.r % 4) t`);
  // Outcomes: most cases older than two days are resolved; acknowledge within minutes to hours.
  await step('acknowledge + resolve', `UPDATE cases k SET status = CASE WHEN o.resolve_at IS NOT NULL THEN 'resolved' ELSE 'acknowledged' END,
        acknowledged_at = o.ack_at, resolved_at = o.resolve_at, root_cause = CASE WHEN o.resolve_at IS NOT NULL THEN 'other' END,
        sla_breached = CASE WHEN o.resolve_at IS NOT NULL THEN o.resolve_at > k.resolve_due_at END, updated_at = coalesce(o.resolve_at, o.ack_at)
      FROM (SELECT c.id, c.opened_at + a.m * interval '1 minute' AS ack_at,
                   CASE WHEN c.opened_at < now() - interval '2 days' AND c.r < 970 THEN c.opened_at + (a.m + exp(random() * 8.5)) * interval '1 minute' END AS resolve_at
              FROM seed_cases c CROSS JOIN LATERAL (SELECT exp(random() * 6.5 + 0 * c.r) AS m) a
             WHERE c.r >= 15) o
     WHERE k.id = o.id AND o.ack_at < now()`);

  // Inbound messages: about one per two exceptions, some failed or dead (integration trends).
  const nMsg = Math.max(10, Math.round(nEx / 2));
  await step('inbound messages', `INSERT INTO inbound_messages (id, connector_id, connector_type, sha256, size_bytes, received_at, status, attempts, test_mode)
    SELECT gen_random_uuid(), x.connector, 'seed', encode(sha256(('seed' || g)::bytea), 'hex'), 512, now() - random() * $2::int * interval '1 day',
           CASE WHEN x.r < 0.015 THEN 'failed' WHEN x.r < 0.017 THEN 'dead' ELSE 'routed' END, CASE WHEN x.r < 0.05 THEN 3 ELSE 1 END, false
      FROM generate_series(1, $1::int) g
     CROSS JOIN LATERAL (SELECT random() AS r, ($3::text[])[1 + g % cardinality($3::text[])] AS connector) x`,
    [nMsg, days, [...SITES.map((s) => `wms-${s[0].toLowerCase()}`), 'edi-van', 'tms-api', 'erp-core']]);

  // Partner documents: per purchase order an 855 (usually within a day), an 856 (usually before the
  // scheduled delivery) and an 810 (usually within three days of the 856), plus 997s, some rejected.
  const nPo = Math.max(10, Math.round(nEx / 20));
  await db.query(`DROP TABLE IF EXISTS seed_pos`);
  await db.query(`CREATE UNLOGGED TABLE seed_pos AS SELECT g, 'SPO-' || g AS po, ($2::text[])[1 + g % cardinality($2::text[])] AS partner,
       now() - random() * $3::int * interval '1 day' AS at, random() AS r FROM generate_series(1, $1::int) g`, [nPo, SUPPLIERS, days]);
  const doc = (type: string, at: string, payload: string, where = 'true') => `INSERT INTO business_documents (id, message_id, ordinal, type, connector_id, partner, po_number, test_mode, received_at, payload)
    SELECT gen_random_uuid(), gen_random_uuid(), 0, '${type}', 'edi-van', partner, po, false, ${at}, ${payload} FROM seed_pos WHERE ${where}`;
  let documents = 0;
  documents += await step('850', doc('purchase_order', 'at', `'{}'::jsonb`));
  documents += await step('855', doc('po_acknowledgment', `at + (CASE WHEN r < 0.85 THEN r * 20 ELSE 30 + r * 40 END) * interval '1 hour'`, `'{}'::jsonb`, `r < 0.97`));
  documents += await step('856', doc('ship_notice', `at + (2 + r * 5) * interval '1 day'`,
    `jsonb_build_object('dates', jsonb_build_object('scheduledDelivery', to_char(at + (CASE WHEN r < 0.9 THEN 8 ELSE 4 END) * interval '1 day', 'YYYY-MM-DD')))`, 'r < 0.95'));
  documents += await step('810', doc('invoice', `at + (2 + r * 5) * interval '1 day' + (CASE WHEN (g % 10) < 8 THEN 24 ELSE 120 END) * interval '1 hour'`, `'{}'::jsonb`, 'r < 0.9'));
  documents += await step('997', doc('functional_ack', `at + interval '5 minutes'`, `jsonb_build_object('status', CASE WHEN (g % 50) = 0 THEN 'R' ELSE 'A' END)`));
  await db.query(`DROP TABLE seed_pos`);
  await db.query(`DROP TABLE seed_cases`);
  // Production writes a rollup row on the day it counts, so rollup tables lie in time order; the seed
  // writes the whole year at once in random order. Put them in time order (their primary keys lead with
  // the time unit), as a year of production would. Likewise the seed opens all cases, then resolves most:
  // rebuild the open-case partial indexes, which in production hold about the open cases only.
  await step('rollups in time order', `DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT c.relname AS t, i.relname AS pk FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indisprimary AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'report\\_%' LOOP
        EXECUTE format('CLUSTER %I USING %I', r.t, r.pk);
      END LOOP; END $$`);
  await step('open-case indexes', `REINDEX TABLE cases`);
  // Vacuum, not only analyze: sets the visibility map, so the open-case index serves index-only scans.
  await db.query(`VACUUM ANALYZE`);
  log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { cases: nCases, exceptions, messages: nMsg, documents };
}

async function main() {
  const { values } = parseArgs({ options: { exceptions: { type: 'string', default: '1000000' }, cases: { type: 'string' }, days: { type: 'string', default: '365' } } });
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hub';
  const schema = process.env.HUB_DB_SCHEMA ?? 'public';
  const db = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
  try {
    const r = await seedReports(db, {
      exceptions: Number(values.exceptions), cases: values.cases ? Number(values.cases) : undefined, days: Number(values.days), log: (l) => console.log(l),
    });
    console.log(JSON.stringify(r));
  } finally {
    await db.end();
  }
}

if (process.argv[1]?.endsWith('seed-reports.js')) {
  main().catch((e) => {
    console.error(`seed failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
