import type { MigrationInterface, QueryRunner } from 'typeorm';
import { REPORTING_FUNCTIONS } from './sql/reporting-triggers.js';
import { REPORTING_FUNCTIONS_V2 } from './sql/reporting-triggers-v2.js';

// Hand-written, reviewed (rollups are outside TypeORM's entity model). Coarser rollups so that long ranges
// read few rows (docs/reporting.md, "Rollups"): exception months, root-cause days and months, and case
// counts without the cycle-time bin (per day and month), cycle-time histograms by team alone; the binned
// case rollups keep only the acknowledge/resolve histograms that percentiles need. New tables are filled
// from the existing rollups.
const EXCEPTION_DIMS = `"category" varchar(32) NOT NULL, "code" varchar(64) NOT NULL, "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL,
  "team" varchar(64) NOT NULL, "connector_id" varchar(64) NOT NULL, "system" varchar(64) NOT NULL, "step" varchar(64) NOT NULL`;
const ROOT_CAUSE_DIMS = `"rule_id" varchar(64) NOT NULL, "upstream_code" varchar(64) NOT NULL, "upstream_connector" varchar(64) NOT NULL,
  "match_value" varchar(128) NOT NULL, "downstream_code" varchar(64) NOT NULL, "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL`;
const ROOT_CAUSE_KEY = 'rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site';
const CASE_DIMS = 'category, code, business_unit, site, team';
/** The open-case index of 1795797000000, and the same with what critical-cases also reads. */
const OPEN_CASE_COLUMNS = `"severity", "owner_team", "category", "code", "site", "business_unit", "amount_at_risk", "resolve_due_at", "sla_breached", "status", "test_mode"`;
const openCaseIndex = (extra: string) => `CREATE INDEX "IDX_cases_open_opened" ON "cases" ("opened_at") INCLUDE (${OPEN_CASE_COLUMNS}${extra})
  WHERE "status" <> 'resolved' AND NOT "test_mode"`;
const CASE_MEASURES = 'sum(cases), sum(breached), sum(sla_tracked), sum(touches), sum(amount_at_risk)';

export class ReportingCoarseRollups1795799000000 implements MigrationInterface {
  name = 'ReportingCoarseRollups1795799000000';

  public async up(q: QueryRunner): Promise<void> {
    // Writers wait until this commits, so no batch is counted by the old triggers after the backfill
    // has read the rollups (it would be missing from the new tables).
    await q.query(`LOCK TABLE "cases", "exceptions" IN SHARE MODE`);

    await q.query(`CREATE TABLE "report_exception_months" ("month" date NOT NULL, ${EXCEPTION_DIMS},
      "exceptions" integer NOT NULL, "repeats" integer NOT NULL, "critical" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
      CONSTRAINT "PK_report_exception_months" PRIMARY KEY ("month","category","code","business_unit","site","team","connector_id","system","step"))`);
    await q.query(`INSERT INTO "report_exception_months"
      SELECT date_trunc('month', day)::date, category, code, business_unit, site, team, connector_id, system, step,
             sum(exceptions), sum(repeats), sum(critical), sum(amount_at_risk)
        FROM "report_exception_days" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`);

    for (const [table, key] of [['report_root_cause_days', 'day'], ['report_root_cause_months', 'month']]) {
      await q.query(`CREATE TABLE "${table}" ("${key}" date NOT NULL, ${ROOT_CAUSE_DIMS}, "links" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
        CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","rule_id","upstream_code","upstream_connector","match_value","downstream_code","business_unit","site"))`);
      const unit = key === 'day' ? `(bucket AT TIME ZONE 'UTC')::date` : `date_trunc('month', bucket AT TIME ZONE 'UTC')::date`;
      await q.query(`INSERT INTO "${table}" SELECT ${unit}, ${ROOT_CAUSE_KEY}, sum(links), sum(amount_at_risk)
        FROM "report_root_cause_hours" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`);
    }

    // Counts and sums (opened, acknowledged, resolved; breaches, touches, amount) need no bin: summed over bins here.
    for (const [table, key, from] of [['report_case_totals_days', 'day', 'report_case_days'], ['report_case_totals_months', 'month', 'report_case_months']]) {
      await q.query(`CREATE TABLE "${table}" ("${key}" date NOT NULL, "metric" varchar(16) NOT NULL,
        "category" varchar(32) NOT NULL, "code" varchar(64) NOT NULL, "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL, "team" varchar(64) NOT NULL,
        "cases" integer NOT NULL, "breached" integer NOT NULL, "sla_tracked" integer NOT NULL, "touches" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
        CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","metric","category","code","business_unit","site","team"))`);
      await q.query(`INSERT INTO "${table}" SELECT ${key}, metric, ${CASE_DIMS}, ${CASE_MEASURES}
        FROM "${from}" GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7`);
      // Opened rows carry no cycle time (bin -1): the totals hold them now.
      await q.query(`DELETE FROM "${from}" WHERE metric = 'opened'`);
    }

    // Cycle-time histograms by team alone: what cycle times per team and unfiltered percentiles need, in a fraction of the rows.
    for (const [table, key, from] of [['report_case_team_days', 'day', 'report_case_days'], ['report_case_team_months', 'month', 'report_case_months']]) {
      await q.query(`CREATE TABLE "${table}" ("${key}" date NOT NULL, "metric" varchar(16) NOT NULL, "bin" smallint NOT NULL, "team" varchar(64) NOT NULL,
        "cases" integer NOT NULL, CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","metric","bin","team"))`);
      await q.query(`INSERT INTO "${table}" SELECT ${key}, metric, bin, team, sum(cases) FROM "${from}" GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`);
    }

    // critical-cases also reads id, number, title and ack_due_at: with them in the open-case index it is an
    // index-only scan too, instead of a heap visit per open case.
    await q.query(`DROP INDEX "IDX_cases_open_opened"`);
    await q.query(openCaseIndex(`, "id", "number", "title", "ack_due_at"`));

    for (const sql of REPORTING_FUNCTIONS_V2) await q.query(sql);
    // Statistics now, not at autovacuum's leisure: the reports' plans depend on them.
    for (const t of ['report_exception_months', 'report_root_cause_days', 'report_root_cause_months', 'report_case_totals_days', 'report_case_totals_months',
      'report_case_team_days', 'report_case_team_months', 'report_case_days', 'report_case_months']) await q.query(`ANALYZE "${t}"`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE "cases", "exceptions" IN SHARE MODE`);
    const old = new Set(['report_exceptions_inserted', 'report_cases_inserted', 'report_cases_updated']);
    for (const sql of REPORTING_FUNCTIONS) {
      const name = /CREATE FUNCTION (\w+)\(/.exec(sql)![1];
      if (old.has(name)) await q.query(sql.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'));
    }
    for (const [table, key, from] of [['report_case_days', 'day', 'report_case_totals_days'], ['report_case_months', 'month', 'report_case_totals_months']]) {
      await q.query(`INSERT INTO "${table}" SELECT ${key}, metric, -1, ${CASE_DIMS}, cases, breached, sla_tracked, touches, amount_at_risk
        FROM "${from}" WHERE metric = 'opened'`);
    }
    await q.query(`DROP INDEX "IDX_cases_open_opened"`);
    await q.query(openCaseIndex(''));
    for (const t of ['report_case_team_months', 'report_case_team_days', 'report_case_totals_months', 'report_case_totals_days', 'report_root_cause_months', 'report_root_cause_days', 'report_exception_months']) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}
