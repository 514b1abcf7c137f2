import type { EntityManager } from 'typeorm';
import { prepared } from '../database/prepared.js';
import { arrayParams } from '../database/joint-write.js';

/*
 * The two set-based statements of case intake: all exceptions of a batch in one INSERT, all its cases
 * opened or joined in one upsert (both in one statement when nothing runs between them). Raw SQL:
 * unnest over the whole batch, which TypeORM's builders cannot express (and cost about twice the CPU
 * per row where they can); named prepared statements (database/prepared.ts), planned once per connection.
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
  reportedSeverity: string;
  fingerprint: string | null;
  occurrences: number;
}

/** Columns of `exceptions` written per row, with their array types and where each comes from (last_seen_at is the batch's `now`). */
const EXCEPTION_COLUMNS: [column: string, type: string, field: keyof ExceptionRow][] = [
  ['id', 'uuid', 'id'], ['message_id', 'uuid', 'messageId'], ['ordinal', 'int', 'ordinal'], ['code', 'varchar', 'code'], ['category', 'varchar', 'category'],
  ['severity', 'varchar', 'severity'], ['title', 'varchar', 'title'], ['connector_id', 'varchar', 'connectorId'], ['document_type', 'varchar', 'documentType'],
  ['test_mode', 'boolean', 'testMode'], ['business_unit', 'varchar', 'businessUnit'], ['site', 'varchar', 'site'], ['order_ref', 'varchar', 'orderRef'],
  ['po_ref', 'varchar', 'poRef'], ['customer_ref', 'varchar', 'customerRef'], ['supplier_ref', 'varchar', 'supplierRef'], ['sku', 'varchar', 'sku'],
  ['customer_tier', 'varchar', 'customerTier'], ['amount_at_risk', 'numeric', 'amountAtRisk'], ['currency', 'char(3)', 'currency'],
  ['occurred_at', 'timestamptz', 'occurredAt'], ['detected_at', 'timestamptz', 'detectedAt'], ['correlation_key', 'varchar', 'correlationKey'],
  ['mapping_id', 'varchar', 'mappingId'], ['mapping_version', 'varchar', 'mappingVersion'], ['case_id', 'uuid', 'caseId'], ['payload', 'jsonb', 'payload'],
  ['reported_severity', 'varchar', 'reportedSeverity'], ['fingerprint', 'varchar', 'fingerprint'], ['occurrences', 'int', 'occurrences'],
];

/** The exceptions INSERT over unnest, parameters from `$first` on; `caseId` lets the merged statement take the case id from the upsert. */
function exceptionsInsert(first: number, now: string, caseId = 'u.case_id', extra: { name: string; type: string }[] = [], join = '', where = '') {
  const cols = EXCEPTION_COLUMNS.map(([c]) => c);
  const arrays = arrayParams(first, [...EXCEPTION_COLUMNS.map(([, t]) => t), ...extra.map((e) => e.type)]);
  return `INSERT INTO exceptions (${cols.join(', ')}, last_seen_at)
     SELECT ${cols.map((c) => (c === 'case_id' ? caseId : `u.${c}`)).join(', ')}, ${now}
       FROM unnest(${arrays}) AS u(${[...cols, ...extra.map((e) => e.name)].join(', ')})${join}${where}`;
}

function exceptionValues(rows: ExceptionRow[]): unknown[] {
  return EXCEPTION_COLUMNS.map(([, , f]) => (f === 'payload' ? rows.map((r) => JSON.stringify(r.payload)) : rows.map((r) => r[f])));
}

const INSERT_EXCEPTIONS = exceptionsInsert(1, `$${EXCEPTION_COLUMNS.length + 1}::timestamptz`);

export async function insertExceptions(m: EntityManager, rows: ExceptionRow[], now: Date): Promise<void> {
  if (!rows.length) return; // an empty INSERT would still fire the exceptions' reporting trigger
  await prepared(m, INSERT_EXCEPTIONS, [...exceptionValues(rows), now]);
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
  /** JSON arrays: the opening rule's `extraTeams` (a case joined later keeps its own). */
  extraTeams: string[];
}

export interface UpsertedCase {
  id: string;
  correlation_key: string;
  opened: boolean;
  owner_team: string;
  exception_count: number;
  severity: string;
}

/** Opens or joins the batch's cases (UPSERT_CASES). */
export async function upsertCaseRows(m: EntityManager, cols: CaseColumns, now: Date): Promise<UpsertedCase[]> {
  return prepared(m, UPSERT_CASES, caseValues(cols, now));
}

/**
 * The case upsert and the exceptions INSERT in one statement (one round trip; for a batch without
 * clearing rules, where nothing has to happen between them). An exception with `caseKey` takes the id
 * of the case the upsert opened or joined for that key; the others keep their `caseId`. The reporting
 * triggers of both tables run at the end of the statement and see the case and its exceptions.
 */
export async function upsertCasesWithExceptions(m: EntityManager, cols: CaseColumns, rows: (ExceptionRow & { caseKey: string | null })[], now: Date): Promise<UpsertedCase[]> {
  return prepared(m, UPSERT_CASES_WITH_EXCEPTIONS, [...caseValues(cols, now), ...exceptionValues(rows), rows.map((r) => r.caseKey)]);
}

/** What must be absent for a batch planned without looking (`upsertCasesWithExceptionsIfQuiet`). */
export interface QuietCheck {
  /** Fingerprints and their repeat cutoffs: a stored exception seen after its cutoff, whose case is unresolved, is a repeat. */
  fps: { fp: string; cutoff: Date }[];
  /** Case keys the batch opens or joins and their re-open cutoffs: a case resolved after its cutoff, with none open, would re-open. */
  reopen: { key: string; cutoff: Date }[];
}

/**
 * `upsertCasesWithExceptions` for a batch planned on the assumption that none of its exceptions repeats
 * a stored one and none of its case keys re-opens a resolved case (the usual case): the statement looks
 * for both first and writes only if it finds neither. Null when it found one: nothing was written, and
 * the caller plans again from the lookup (`findRepeatsAndReopen`). One statement instead of two; the
 * lookups see the snapshot the lookup statement would have seen (after the same locks).
 */
export async function upsertCasesWithExceptionsIfQuiet(m: EntityManager, cols: CaseColumns, rows: (ExceptionRow & { caseKey: string | null })[], now: Date, check: QuietCheck): Promise<UpsertedCase[] | null> {
  const found = await prepared<UpsertedCase & { quiet: boolean }>(m, UPSERT_CASES_WITH_EXCEPTIONS_IF_QUIET, [
    ...caseValues(cols, now), ...exceptionValues(rows), rows.map((r) => r.caseKey),
    check.fps.map((f) => f.fp), check.fps.map((f) => f.cutoff), check.reopen.map((k) => k.key), check.reopen.map((k) => k.cutoff),
  ]);
  if (!found[0]?.quiet) return null;
  return found.filter((r) => r.id !== null).map(({ quiet: _, ...r }) => r);
}

function caseValues(cols: CaseColumns, now: Date): unknown[] {
  return [cols.id, cols.key, cols.title, cols.code, cols.category, cols.severity, cols.team, cols.bu, cols.site, cols.test,
    cols.count, cols.amount, cols.currency, cols.routing, now, cols.kind, cols.extraTeams];
}

/**
 * One INSERT .. ON CONFLICT over the partial unique index (open cases per correlation key) opens or
 * joins every case of the batch in one statement, race-free across workers. TypeORM's upsert cannot
 * express the partial-index conflict target or the merge arithmetic.
 */
const upsertCases = (where = '') => `INSERT INTO cases (id, correlation_key, title, code, category, severity, owner_team, business_unit, site,
                        test_mode, exception_count, amount_at_risk, currency, opened_at, updated_at, routing, status, kind, extra_teams)
     SELECT u.id, u.key, u.title, u.code, u.category, u.severity, u.team, u.bu, u.site,
            u.test, u.count, u.amount, u.currency, $15, $15, u.routing, 'open', u.kind, u.extra
       FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[],
                   $8::varchar[], $9::varchar[], $10::boolean[], $11::int[], $12::numeric[], $13::char(3)[], $14::jsonb[], $16::varchar[], $17::jsonb[])
            AS u(id, key, title, code, category, severity, team, bu, site, test, count, amount, currency, routing, kind, extra)${where}
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
     RETURNING id, correlation_key, (xmax = 0) AS opened, owner_team, exception_count, severity`;

const UPSERT_CASES = upsertCases();

const UPSERT_CASES_WITH_EXCEPTIONS = `WITH up AS (${UPSERT_CASES}),
  ex AS (${exceptionsInsert(18, '$15::timestamptz', 'CASE WHEN u.case_key IS NULL THEN u.case_id ELSE up.id END',
    [{ name: 'case_key', type: 'varchar' }], ' LEFT JOIN up ON up.correlation_key = u.case_key')})
  SELECT id, correlation_key, opened, owner_team, exception_count, severity FROM up`;

/** Parameters after the upsert's and the exceptions': fingerprints, their cutoffs, case keys, their re-open cutoffs. */
const Q = 18 + EXCEPTION_COLUMNS.length + 1;

const UPSERT_CASES_WITH_EXCEPTIONS_IF_QUIET = `WITH rep AS (
    SELECT 1 FROM unnest($${Q}::varchar[], $${Q + 1}::timestamptz[]) AS u(fp, cutoff)
      JOIN exceptions e ON e.fingerprint = u.fp AND e.last_seen_at > u.cutoff
      LEFT JOIN cases c ON c.id = e.case_id
     WHERE e.case_id IS NULL OR c.status <> 'resolved' LIMIT 1),
  reo AS (
    SELECT 1 FROM unnest($${Q + 2}::varchar[], $${Q + 3}::timestamptz[]) AS u(key, cutoff)
      JOIN cases r ON r.correlation_key = u.key AND r.status = 'resolved' AND r.resolved_at > u.cutoff
     WHERE NOT EXISTS (SELECT 1 FROM cases o WHERE o.correlation_key = u.key AND o.status <> 'resolved') LIMIT 1),
  quiet AS (SELECT NOT EXISTS (SELECT 1 FROM rep) AND NOT EXISTS (SELECT 1 FROM reo) AS ok),
  up AS (${upsertCases(' WHERE (SELECT ok FROM quiet)')}),
  ex AS (${exceptionsInsert(18, '$15::timestamptz', 'CASE WHEN u.case_key IS NULL THEN u.case_id ELSE up.id END',
    [{ name: 'case_key', type: 'varchar' }], ' LEFT JOIN up ON up.correlation_key = u.case_key', ' WHERE (SELECT ok FROM quiet)')})
  SELECT q.ok AS quiet, up.id, up.correlation_key, up.opened, up.owner_team, up.exception_count, up.severity FROM quiet q LEFT JOIN up ON true`;
