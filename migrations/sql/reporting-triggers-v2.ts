// Trigger functions as of migration 1795799000000 (coarser rollups, docs/reporting.md): they replace
// report_exceptions_inserted, report_cases_inserted and report_cases_updated of reporting-triggers.ts.
// Added: exception months, root-cause days and months, case totals per day and month (no cycle-time bin),
// cycle-time histograms by team alone; the binned case rollups now hold only acknowledge/resolve histograms. Same rules as before: statement
// level, one aggregate upsert per rollup, upserts ORDER BY key, test traffic never counted.
import {
  BIN, CORE_UPSERT, DAY, EXCEPTION_ROWS, EXCEPTION_TRENDS_AND_UPSTREAMS, HOUR, PARTNER_EXCEPTION_UPSERT, ROOT_CAUSE_LINKS,
} from './reporting-triggers.js';

const MONTH = (day: string) => `date_trunc('month', ${day})::date`;

/** Root-cause links (CTE l) into the hour, day or month rollup. */
const ROOT_CAUSE_UPSERT = (table: string, key: string, keyExpr: string) => `INSERT INTO ${table} AS r (${key}, rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site, links, amount_at_risk)
  SELECT ${keyExpr}, rule_id, upstream_code, upstream_connector, match_value, code, bu, site, count(*), sum(amount)
    FROM l GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT (${key}, rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site) DO UPDATE SET
    links = r.links + EXCLUDED.links, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk`;

/** Case counts without the cycle-time bin (CTE x: day, metric, [bin,] dims, measures) into report_case_totals_days or _months. */
const CASE_TOTALS_UPSERT = (table: string, key: string, keyExpr: string) => `INSERT INTO ${table} AS r (${key}, metric, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk)
  SELECT ${keyExpr}, metric, category, code, business_unit, site, team, sum(cases), sum(breached), sum(sla_tracked), sum(touches), sum(amount_at_risk)
    FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (${key}, metric, category, code, business_unit, site, team) DO UPDATE SET
    cases = r.cases + EXCLUDED.cases, breached = r.breached + EXCLUDED.breached, sla_tracked = r.sla_tracked + EXCLUDED.sla_tracked,
    touches = r.touches + EXCLUDED.touches, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk`;

/** Acknowledge/resolve cycle-time histograms (CTE x, one row per day, metric, bin and dims) into report_case_days or _months. */
const CASE_BINS_UPSERT = (table: string, key: string, keyExpr: string) => `INSERT INTO ${table} AS r (${key}, metric, bin, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk)
  SELECT ${keyExpr}, metric, bin, category, code, business_unit, site, team, sum(cases), sum(breached), sum(sla_tracked), sum(touches), sum(amount_at_risk)
    FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT (${key}, metric, bin, category, code, business_unit, site, team) DO UPDATE SET
    cases = r.cases + EXCLUDED.cases, breached = r.breached + EXCLUDED.breached, sla_tracked = r.sla_tracked + EXCLUDED.sla_tracked,
    touches = r.touches + EXCLUDED.touches, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk`;

/** The same histograms by team alone (cycle times per team, unfiltered percentiles: a fraction of the rows). */
const TEAM_BINS_UPSERT = (table: string, key: string, keyExpr: string) => `INSERT INTO ${table} AS r (${key}, metric, bin, team, cases)
  SELECT ${keyExpr}, metric, bin, team, sum(cases) FROM x GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (${key}, metric, bin, team) DO UPDATE SET cases = r.cases + EXCLUDED.cases`;

const CASE_TOTALS_UPSERTS = `t AS (
    ${CASE_TOTALS_UPSERT('report_case_totals_days', 'day', 'day')})
  ${CASE_TOTALS_UPSERT('report_case_totals_months', 'month', MONTH('day'))}`;

export const REPORTING_FUNCTIONS_V2 = [
  `CREATE OR REPLACE FUNCTION report_exceptions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Volume, repeats (an exception whose case already held an earlier one), amount at risk:
  -- per hour, day and month by the core dimensions, per day by supplier and customer.
${EXCEPTION_ROWS}  h AS (
    ${CORE_UPSERT('report_exception_hours', 'bucket', 'bucket')}),
  d AS (
    ${CORE_UPSERT('report_exception_days', 'day', `(bucket AT TIME ZONE 'UTC')::date`)}),
  m AS (
    ${CORE_UPSERT('report_exception_months', 'month', MONTH(`(bucket AT TIME ZONE 'UTC')`))})
${PARTNER_EXCEPTION_UPSERT}${EXCEPTION_TRENDS_AND_UPSTREAMS}${ROOT_CAUSE_LINKS.trimEnd()},
  l AS MATERIALIZED (SELECT f.* FROM found f JOIN linked USING (downstream_id)),
  h AS (
  ${ROOT_CAUSE_UPSERT('report_root_cause_hours', 'bucket', HOUR('detected_at'))}),
  d AS (
  ${ROOT_CAUSE_UPSERT('report_root_cause_days', 'day', DAY('detected_at'))})
  ${ROOT_CAUSE_UPSERT('report_root_cause_months', 'month', MONTH(`(detected_at AT TIME ZONE 'UTC')`))};
  RETURN NULL;
END $$`,

  // Opened cases carry no cycle time: totals only.
  `CREATE OR REPLACE FUNCTION report_cases_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH x AS MATERIALIZED (
    SELECT ${DAY('n.opened_at')} AS day, 'opened'::varchar AS metric, n.category, n.code, COALESCE(n.business_unit, '') AS business_unit,
           COALESCE(n.site, '') AS site, n.owner_team AS team, count(*)::int AS cases, 0 AS breached, 0 AS sla_tracked, 0 AS touches,
           COALESCE(sum(n.amount_at_risk), 0) AS amount_at_risk
      FROM new_rows n WHERE NOT n.test_mode GROUP BY 1, 2, 3, 4, 5, 6, 7),
  ${CASE_TOTALS_UPSERTS};
  RETURN NULL;
END $$`,

  // Acknowledge and resolve are one-way transitions (CaseDesk): count each once, when it happens.
  // Most updates of cases (the pipeline joining exceptions to open cases) change neither: return early.
  `CREATE OR REPLACE FUNCTION report_cases_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                  WHERE NOT n.test_mode AND ((o.acknowledged_at IS NULL AND n.acknowledged_at IS NOT NULL) OR (o.resolved_at IS NULL AND n.resolved_at IS NOT NULL))) THEN
    RETURN NULL;
  END IF;
  WITH x AS MATERIALIZED (
  SELECT d.day, d.metric, d.bin, n.category, n.code, COALESCE(n.business_unit, '') AS business_unit, COALESCE(n.site, '') AS site, n.owner_team AS team,
         count(*)::int AS cases, (count(*) FILTER (WHERE d.breached))::int AS breached, (count(*) FILTER (WHERE d.tracked))::int AS sla_tracked,
         COALESCE(sum(d.touches), 0)::int AS touches, COALESCE(sum(n.amount_at_risk) FILTER (WHERE d.metric = 'resolved'), 0) AS amount_at_risk
    FROM new_rows n JOIN old_rows o ON o.id = n.id
   CROSS JOIN LATERAL (
     SELECT ${DAY('n.acknowledged_at')} AS day, 'acknowledged'::varchar AS metric,
            ${BIN("extract(epoch FROM n.acknowledged_at - n.opened_at) / 60")} AS bin,
            COALESCE(n.acknowledged_at > n.ack_due_at, false) AS breached, n.ack_due_at IS NOT NULL AS tracked, 0 AS touches
      WHERE o.acknowledged_at IS NULL AND n.acknowledged_at IS NOT NULL
     UNION ALL
     SELECT ${DAY('n.resolved_at')}, 'resolved', ${BIN("extract(epoch FROM n.resolved_at - n.opened_at) / 60")},
            COALESCE(n.sla_breached, false) OR COALESCE(n.resolved_at > n.resolve_due_at, false),
            n.sla_breached IS NOT NULL OR n.resolve_due_at IS NOT NULL,
            t.touches
       FROM (SELECT count(*)::int AS touches FROM audit_events a
              WHERE a.entity_type = 'case' AND a.entity_id = n.id::text AND a.actor_type <> 'system') t
      WHERE o.resolved_at IS NULL AND n.resolved_at IS NOT NULL) d
   WHERE NOT n.test_mode
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
  h AS (
    ${CASE_BINS_UPSERT('report_case_days', 'day', 'day')}),
  m AS (
    ${CASE_BINS_UPSERT('report_case_months', 'month', MONTH('day'))}),
  th AS (
    ${TEAM_BINS_UPSERT('report_case_team_days', 'day', 'day')}),
  tm AS (
    ${TEAM_BINS_UPSERT('report_case_team_months', 'month', MONTH('day'))}),
  ${CASE_TOTALS_UPSERTS};
  RETURN NULL;
END $$`,
];
