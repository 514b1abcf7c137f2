import { parseArgs } from 'node:util';
import pg from 'pg';

/**
 * Cost of the reporting triggers per statement, on the data set of bench/reports.bench.ts: in each
 * rolled-back transaction, the pipeline's case upsert (100 new cases, 100 joining open ones), one
 * batch of 200 exceptions (half of them on those cases, codes that make root-cause links), then
 * acknowledging 200 open cases and resolving 200 others. Trigger times come from EXPLAIN ANALYZE.
 *
 *   npm run build && node dist/bench/report-triggers.bench.js [--iterations 80]
 *   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hub_bench_reports), schema bench_reports
 */
const { values: o } = parseArgs({ options: { iterations: { type: 'string', default: '80' } } });
const N = Number(o.iterations);
const db = new pg.Client({
  connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hub_bench_reports', options: '-c search_path=bench_reports',
});
const CODES = ['WAREHOUSE.PICK_SHORTFALL', 'WAREHOUSE.INVENTORY_VARIANCE', 'ORDER.CREDIT_HOLD', 'ORDER.RELEASE_BLOCKED', 'PROCUREMENT.ASN_MISMATCH',
  'FINANCE.INVOICE_DISCREPANCY', 'FINANCE.TAX_ERROR', 'LOGISTICS.SHIPMENT_DELAY', 'INTEGRATION.EDI_SYNTAX_ERROR', 'INTEGRATION.CONNECTOR_DOWN',
  'INTEGRATION.MAPPING_FAILED', 'MASTERDATA.INCOMPLETE_CUSTOMER'];

type Plan = { 'Execution Time': number; Triggers?: { 'Trigger Name': string; Time: number }[] };
const explain = async (sql: string, params: unknown[]): Promise<Plan> => (await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)).rows[0]['QUERY PLAN'][0];
const trigger = (p: Plan, name: string) => p.Triggers?.find((t) => t['Trigger Name'] === name)?.Time ?? 0;

async function main() {
  await db.connect();
  const ids = async (where: string) => (await db.query(`SELECT id, correlation_key FROM cases WHERE ${where} AND NOT test_mode ORDER BY opened_at DESC LIMIT 2000`)).rows;
  const open = (await ids(`status <> 'resolved'`)).map((r) => r.correlation_key as string);
  const unacked = (await ids(`status = 'open' AND acknowledged_at IS NULL`)).slice(0, 200).map((r) => r.id);
  const acked = (await ids(`status = 'acknowledged'`)).slice(0, 200).map((r) => r.id);
  const t: Record<string, number[]> = { 'cases upsert: insert trigger': [], 'cases upsert: update trigger': [], 'exceptions insert: trigger': [],
    'exceptions insert: statement': [], 'acknowledge 200: trigger': [], 'resolve 200: trigger': [] };
  for (let i = 0; i < N + 3; i++) {
    await db.query('BEGIN');
    const keys = [...Array.from({ length: 100 }, (_, j) => `bench:${i}:${j}:${Math.random()}`), ...open.slice((i * 100) % 1900, (i * 100) % 1900 + 100)];
    const c = await explain(`INSERT INTO cases (id, correlation_key, title, code, category, severity, owner_team, business_unit, site, test_mode, exception_count,
        amount_at_risk, currency, opened_at, updated_at, routing, status, kind)
      SELECT gen_random_uuid(), k, 't', c, split_part(c, '.', 1), 'standard', 'warehouse-ops', 'west', 'RNO1', false, 1, 10, 'USD', now(), now(), '{}', 'open', 'exception'
        FROM unnest($1::text[]) WITH ORDINALITY u(k, n) CROSS JOIN LATERAL (SELECT ($2::text[])[1 + n % 12] AS c) x
      ON CONFLICT (correlation_key) WHERE status <> 'resolved' DO UPDATE SET exception_count = cases.exception_count + 1, updated_at = EXCLUDED.updated_at`, [keys, CODES]);
    const e = await explain(`INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, test_mode,
        business_unit, site, supplier_ref, customer_ref, amount_at_risk, currency, occurred_at, detected_at, correlation_key, mapping_id, mapping_version, case_id, payload)
      SELECT gen_random_uuid(), gen_random_uuid(), 0, x.c, split_part(x.c, '.', 1), 'standard', 't', x.conn, 'pick', false, 'west', x.site,
             CASE WHEN x.c LIKE 'FINANCE%' OR x.c LIKE 'PROCUREMENT%' OR x.c LIKE 'INTEGRATION.EDI%' THEN 'S-ACME' END, CASE WHEN x.c LIKE 'ORDER%' THEN 'C-1001' END,
             25, 'USD', now(), now() - (n % 30) * interval '1 minute', 'k', 'm', '1', k.id, '{"source":{"system":"wms"}}'
        FROM generate_series(1, 200) n
       CROSS JOIN LATERAL (SELECT ($1::text[])[1 + n % 12] AS c, 'wms-' || (ARRAY['rno1','sea2','dal2'])[1 + n % 3] AS conn, (ARRAY['RNO1','SEA2','DAL2'])[1 + n % 3] AS site) x
        LEFT JOIN LATERAL (SELECT id FROM cases WHERE correlation_key = ($2::text[])[1 + n % 200] AND status <> 'resolved') k ON n % 2 = 0`, [CODES, keys]);
    const a = await explain(`UPDATE cases SET status = 'acknowledged', acknowledged_at = now() WHERE id = ANY($1::uuid[])`, [unacked]);
    const r = await explain(`UPDATE cases SET status = 'resolved', resolved_at = now() WHERE id = ANY($1::uuid[])`, [acked]);
    await db.query('ROLLBACK');
    if (i < 3) continue; // warm-up
    t['cases upsert: insert trigger'].push(trigger(c, 'report_cases_ins'));
    t['cases upsert: update trigger'].push(trigger(c, 'report_cases_upd'));
    t['exceptions insert: trigger'].push(trigger(e, 'report_exceptions_ins'));
    t['exceptions insert: statement'].push(e['Execution Time']);
    t['acknowledge 200: trigger'].push(trigger(a, 'report_cases_upd'));
    t['resolve 200: trigger'].push(trigger(r, 'report_cases_upd'));
  }
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
  for (const [k, xs] of Object.entries(t)) console.log(`${k.padEnd(30)} median ${q(xs, 0.5)} ms  p90 ${q(xs, 0.9)} ms`);
  await db.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
