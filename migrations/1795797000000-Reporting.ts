import type { MigrationInterface, QueryRunner } from 'typeorm';
import { REPORTING_FUNCTIONS, REPORTING_TRIGGERS, DROP_REPORTING_TRIGGERS } from './sql/reporting-triggers.js';

// Hand-written, reviewed: rollup tables and statement-level triggers are outside TypeORM's entity model.
// Every rollup is maintained by AFTER ... FOR EACH STATEMENT triggers with transition tables, so it
// changes in the same transaction as the row it counts (see docs/reporting.md).
export class Reporting1795797000000 implements MigrationInterface {
  name = 'Reporting1795797000000';

  public async up(q: QueryRunner): Promise<void> {
    // The SLA module's contract: it sets these; reporting only reads them (docs/reporting.md).
    await q.query(`ALTER TABLE "cases" ADD "ack_due_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "cases" ADD "resolve_due_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "cases" ADD "sla_breached" boolean`);
    // Open cases are few; aging, open figures and the critical list read them from this partial index
    // alone (index-only scans: the INCLUDE columns are every column those reports read).
    await q.query(`CREATE INDEX "IDX_cases_open_opened" ON "cases" ("opened_at") INCLUDE ("severity", "owner_team", "category", "code", "site",
      "business_unit", "amount_at_risk", "resolve_due_at", "sla_breached", "status", "test_mode") WHERE "status" <> 'resolved' AND NOT "test_mode"`);

    // Exceptions by the dimensions that stay few (their combinations per day are bounded by codes x sites),
    // per UTC hour (hour buckets, other time zones) and per UTC day (long ranges).
    for (const [table, key] of [['report_exception_hours', 'bucket'], ['report_exception_days', 'day']]) {
      await q.query(`CREATE TABLE "${table}" (
        "${key}" ${key === 'day' ? 'date' : 'TIMESTAMP WITH TIME ZONE'} NOT NULL, "category" varchar(32) NOT NULL, "code" varchar(64) NOT NULL,
        "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL, "team" varchar(64) NOT NULL,
        "connector_id" varchar(64) NOT NULL, "system" varchar(64) NOT NULL, "step" varchar(64) NOT NULL,
        "exceptions" integer NOT NULL, "repeats" integer NOT NULL, "critical" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
        CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","category","code","business_unit","site","team","connector_id","system","step"))`);
    }
    // Suppliers and customers are many: their own daily rollup, with only category and code beside them.
    await q.query(`CREATE TABLE "report_partner_exception_days" (
      "day" date NOT NULL, "supplier" varchar(128) NOT NULL, "customer" varchar(128) NOT NULL, "category" varchar(32) NOT NULL, "code" varchar(64) NOT NULL,
      "exceptions" integer NOT NULL, "repeats" integer NOT NULL, "critical" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
      CONSTRAINT "PK_report_partner_exception_days" PRIMARY KEY ("day","supplier","customer","category","code"))`);
    await q.query(`CREATE INDEX "IDX_report_partner_exception_days_supplier" ON "report_partner_exception_days" ("supplier", "day")`);
    await q.query(`CREATE INDEX "IDX_report_partner_exception_days_customer" ON "report_partner_exception_days" ("customer", "day")`);
    // Case outcomes per UTC day and per UTC month (long ranges read whole months from the second).
    for (const [table, key] of [['report_case_days', 'day'], ['report_case_months', 'month']]) {
      await q.query(`CREATE TABLE "${table}" (
        "${key}" date NOT NULL, "metric" varchar(16) NOT NULL, "bin" smallint NOT NULL,
        "category" varchar(32) NOT NULL, "code" varchar(64) NOT NULL, "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL, "team" varchar(64) NOT NULL,
        "cases" integer NOT NULL, "breached" integer NOT NULL, "sla_tracked" integer NOT NULL, "touches" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
        CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","metric","bin","category","code","business_unit","site","team"))`);
    }
    for (const [table, key] of [['report_integration_hours', 'bucket'], ['report_integration_days', 'day']]) {
      await q.query(`CREATE TABLE "${table}" (
        "${key}" ${key === 'day' ? 'date' : 'TIMESTAMP WITH TIME ZONE'} NOT NULL, "connector_id" varchar(64) NOT NULL, "kind" varchar(24) NOT NULL, "n" integer NOT NULL,
        CONSTRAINT "PK_${table}" PRIMARY KEY ("${key}","connector_id","kind"))`);
    }
    await q.query(`CREATE TABLE "report_partner_days" (
      "day" date NOT NULL, "partner" varchar(128) NOT NULL, "metric" varchar(48) NOT NULL, "n" integer NOT NULL,
      CONSTRAINT "PK_report_partner_days" PRIMARY KEY ("day","partner","metric"))`);
    await q.query(`CREATE TABLE "root_cause_rules" (
      "id" varchar(64) NOT NULL, "description" text NOT NULL, "upstream_codes" varchar(64)[] NOT NULL, "downstream_codes" varchar(64)[] NOT NULL,
      "match_on" varchar(16) NOT NULL CHECK ("match_on" IN ('site','connector','system','supplier','customer','partner')),
      "window_minutes" integer NOT NULL CHECK ("window_minutes" > 0), "enabled" boolean NOT NULL DEFAULT true,
      CONSTRAINT "PK_root_cause_rules" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "root_cause_upstreams" (
      "rule_id" varchar(64) NOT NULL, "match_value" varchar(128) NOT NULL, "detected_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "exception_id" uuid NOT NULL, "code" varchar(64) NOT NULL, "connector_id" varchar(64) NOT NULL,
      CONSTRAINT "PK_root_cause_upstreams" PRIMARY KEY ("rule_id","match_value","detected_at","exception_id"))`);
    await q.query(`CREATE TABLE "root_cause_links" (
      "downstream_id" uuid NOT NULL, "upstream_id" uuid NOT NULL, "rule_id" varchar(64) NOT NULL,
      "downstream_detected_at" TIMESTAMP WITH TIME ZONE NOT NULL, "linked_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "PK_root_cause_links" PRIMARY KEY ("downstream_id"))`);
    await q.query(`CREATE INDEX "IDX_root_cause_links_upstream" ON "root_cause_links" ("upstream_id")`);
    await q.query(`CREATE TABLE "report_root_cause_hours" (
      "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, "rule_id" varchar(64) NOT NULL, "upstream_code" varchar(64) NOT NULL,
      "upstream_connector" varchar(64) NOT NULL, "match_value" varchar(128) NOT NULL, "downstream_code" varchar(64) NOT NULL,
      "business_unit" varchar(64) NOT NULL, "site" varchar(64) NOT NULL, "links" integer NOT NULL, "amount_at_risk" numeric(18,2) NOT NULL,
      CONSTRAINT "PK_report_root_cause_hours" PRIMARY KEY ("bucket","rule_id","upstream_code","upstream_connector","match_value","downstream_code","business_unit","site"))`);
    await q.query(`INSERT INTO "root_cause_rules" ("id","description","upstream_codes","downstream_codes","match_on","window_minutes") VALUES
      ('integration-failure-before-pick-shortfall', 'A failed sync or unreadable message on the same connector up to 4 hours before a pick shortfall or blocked release',
       ARRAY['INTEGRATION.CONNECTOR_DOWN','INTEGRATION.MAPPING_FAILED','INTEGRATION.MALFORMED_PAYLOAD','INTEGRATION.DELIVERY_FAILED'],
       ARRAY['WAREHOUSE.PICK_SHORTFALL','ORDER.RELEASE_BLOCKED','WAREHOUSE.INVENTORY_VARIANCE'], 'connector', 240),
      ('partner-edi-errors-before-invoice-discrepancy', 'The same partner''s EDI syntax errors or rejections up to 7 days before an invoice discrepancy or tax error',
       ARRAY['INTEGRATION.EDI_SYNTAX_ERROR','INTEGRATION.EDI_REJECTED'], ARRAY['FINANCE.INVOICE_DISCREPANCY','FINANCE.TAX_ERROR'], 'partner', 10080),
      ('partner-edi-errors-before-asn-mismatch', 'The same partner''s EDI syntax errors up to 3 days before a ship notice mismatch',
       ARRAY['INTEGRATION.EDI_SYNTAX_ERROR'], ARRAY['PROCUREMENT.ASN_MISMATCH'], 'partner', 4320)`);
    for (const sql of REPORTING_FUNCTIONS) await q.query(sql);
    for (const sql of REPORTING_TRIGGERS) await q.query(sql);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const sql of DROP_REPORTING_TRIGGERS) await q.query(sql);
    for (const t of ['report_root_cause_hours', 'root_cause_links', 'root_cause_upstreams', 'root_cause_rules', 'report_partner_days',
      'report_integration_days', 'report_integration_hours', 'report_case_months', 'report_case_days', 'report_partner_exception_days',
      'report_exception_days', 'report_exception_hours']) await q.query(`DROP TABLE "${t}"`);
    await q.query(`DROP INDEX "IDX_cases_open_opened"`);
    await q.query(`ALTER TABLE "cases" DROP COLUMN "sla_breached"`);
    await q.query(`ALTER TABLE "cases" DROP COLUMN "resolve_due_at"`);
    await q.query(`ALTER TABLE "cases" DROP COLUMN "ack_due_at"`);
  }
}
