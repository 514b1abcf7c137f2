import { MigrationInterface, QueryRunner } from "typeorm";

/** Noise controls (repeat fingerprint and occurrences, incident cases, re-open count) and the triage review queue. */
export class RoutingNoiseTriage1795793000000 implements MigrationInterface {
    name = 'RoutingNoiseTriage1795793000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "triage_items" ("id" uuid NOT NULL, "status" character varying(16) NOT NULL, "channel" character varying(32) NOT NULL, "text" text NOT NULL, "context" jsonb NOT NULL, "suggestion" jsonb NOT NULL, "submitted_by" character varying(128) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "exception_id" uuid, "decided_by" character varying(128), "decided_at" TIMESTAMP WITH TIME ZONE, "decision" jsonb, CONSTRAINT "PK_590edf3368bff7533a0ce5f719c" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_triage_items_status_received" ON "triage_items"  ("status", "received_at") `);
        await queryRunner.query(`ALTER TABLE "cases" ADD "kind" character varying(16) NOT NULL DEFAULT 'case'`);
        await queryRunner.query(`ALTER TABLE "cases" ADD "reopen_count" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "fingerprint" character varying(64)`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "occurrences" integer NOT NULL DEFAULT '1'`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "last_seen_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "suggestion" jsonb`);
        await queryRunner.query(`CREATE INDEX "IDX_cases_correlation_resolved" ON "cases"  ("correlation_key", "resolved_at") `);
        await queryRunner.query(`CREATE INDEX "IDX_exceptions_connector_code_detected" ON "exceptions"  ("connector_id", "code", "detected_at") `);
        await queryRunner.query(`CREATE INDEX "IDX_exceptions_fingerprint_seen" ON "exceptions"  ("fingerprint", "last_seen_at") WHERE "fingerprint" IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "IDX_exceptions_fingerprint_seen"`);
        await queryRunner.query(`DROP INDEX "IDX_exceptions_connector_code_detected"`);
        await queryRunner.query(`DROP INDEX "IDX_cases_correlation_resolved"`);
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "suggestion"`);
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "last_seen_at"`);
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "occurrences"`);
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "fingerprint"`);
        await queryRunner.query(`ALTER TABLE "cases" DROP COLUMN "reopen_count"`);
        await queryRunner.query(`ALTER TABLE "cases" DROP COLUMN "kind"`);
        await queryRunner.query(`DROP INDEX "IDX_triage_items_status_received"`);
        await queryRunner.query(`DROP TABLE "triage_items"`);
    }

}
