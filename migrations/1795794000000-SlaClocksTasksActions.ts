import type { MigrationInterface, QueryRunner } from "typeorm";

/** SLA clocks, parallel tasks and actions of cases (src/sla, src/actions); escalation level and extra teams on cases. */

export class SlaClocksTasksActions1795794000000 implements MigrationInterface {
    name = 'SlaClocksTasksActions1795794000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "case_actions" ("id" uuid NOT NULL, "case_id" uuid NOT NULL, "rule_id" character varying(64) NOT NULL, "action" character varying(128) NOT NULL, "params" jsonb NOT NULL, "idempotency_key" character varying(300) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "result" jsonb, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_8b999ee896ebcdf6702df306fb3" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_case_actions_unfinished" ON "case_actions"  ("updated_at") WHERE "status" IN ('pending', 'running')`);
        await queryRunner.query(`CREATE INDEX "IDX_case_actions_case" ON "case_actions"  ("case_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_case_actions_idempotency" ON "case_actions"  ("idempotency_key") `);
        await queryRunner.query(`CREATE TABLE "case_tasks" ("id" uuid NOT NULL, "case_id" uuid NOT NULL, "spec_id" character varying(64) NOT NULL, "team" character varying(64) NOT NULL, "title" character varying(200) NOT NULL, "required" boolean NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'open', "rule_id" character varying(64), "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE, "completed_by" character varying(128), "note" text, CONSTRAINT "PK_6884bc205016f0df75a601d9311" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_case_tasks_case_spec" ON "case_tasks"  ("case_id", "spec_id") `);
        await queryRunner.query(`CREATE TABLE "sla_clocks" ("id" uuid NOT NULL, "case_id" uuid NOT NULL, "task_id" uuid, "kind" character varying(16) NOT NULL, "sla_id" character varying(64) NOT NULL, "calendar_id" character varying(64) NOT NULL, "status" character varying(16) NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "target_ms" bigint NOT NULL, "consumed_ms" bigint NOT NULL DEFAULT '0', "segment_started_at" TIMESTAMP WITH TIME ZONE, "due_at" TIMESTAMP WITH TIME ZONE, "next_threshold" integer, "next_due_at" TIMESTAMP WITH TIME ZONE, "thresholds" jsonb NOT NULL, "fired" jsonb NOT NULL DEFAULT '[]'::jsonb, "breached_at" TIMESTAMP WITH TIME ZONE, "stopped_at" TIMESTAMP WITH TIME ZONE, "outcome" character varying(16), "basis" character varying(300) NOT NULL, CONSTRAINT "PK_2dce3f4b73eb9cb02e3d81de5c9" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_task" ON "sla_clocks"  ("task_id") WHERE "task_id" IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_case_kind" ON "sla_clocks"  ("case_id", "kind") WHERE "task_id" IS NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_sla_clocks_next_due" ON "sla_clocks"  ("next_due_at") WHERE "status" = 'running'`);
        await queryRunner.query(`CREATE INDEX "IDX_sla_clocks_case" ON "sla_clocks"  ("case_id") `);
        await queryRunner.query(`ALTER TABLE "cases" ADD "escalation_level" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "cases" ADD "extra_teams" jsonb NOT NULL DEFAULT '[]'::jsonb`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "cases" DROP COLUMN "extra_teams"`);
        await queryRunner.query(`ALTER TABLE "cases" DROP COLUMN "escalation_level"`);
        await queryRunner.query(`DROP INDEX "IDX_sla_clocks_case"`);
        await queryRunner.query(`DROP INDEX "IDX_sla_clocks_next_due"`);
        await queryRunner.query(`DROP INDEX "UQ_sla_clocks_case_kind"`);
        await queryRunner.query(`DROP INDEX "UQ_sla_clocks_task"`);
        await queryRunner.query(`DROP TABLE "sla_clocks"`);
        await queryRunner.query(`DROP INDEX "UQ_case_tasks_case_spec"`);
        await queryRunner.query(`DROP TABLE "case_tasks"`);
        await queryRunner.query(`DROP INDEX "UQ_case_actions_idempotency"`);
        await queryRunner.query(`DROP INDEX "IDX_case_actions_case"`);
        await queryRunner.query(`DROP INDEX "IDX_case_actions_unfinished"`);
        await queryRunner.query(`DROP TABLE "case_actions"`);
    }

}
