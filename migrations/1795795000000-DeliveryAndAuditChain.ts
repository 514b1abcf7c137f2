import type { MigrationInterface, QueryRunner } from "typeorm";

// Generated, reviewed: schema qualifiers and spurious re-declarations of unrelated defaults and the
// outbox feed index removed. Added by hand: the audit trigger now allows
// exactly one update of a row: the sealer filling prev_hash/hash (nothing else may change).

export class DeliveryAndAuditChain1795795000000 implements MigrationInterface {
    name = 'DeliveryAndAuditChain1795795000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "event_id" bigint NOT NULL, "subscription_id" uuid NOT NULL, "case_id" uuid, "event_type" character varying(32) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "lease_until" TIMESTAMP WITH TIME ZONE, "manual" boolean NOT NULL DEFAULT false, "last_status_code" integer, "last_error" character varying(512), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "delivered_at" TIMESTAMP WITH TIME ZONE, "dead_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a6ef225c5c5f0974e503bfb731f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_deliveries_subscription" ON "deliveries"  ("subscription_id", "status", "created_at") `);
        await queryRunner.query(`CREATE INDEX "IDX_deliveries_case_order" ON "deliveries"  ("subscription_id", "case_id", "seq") WHERE "status" = 'pending'`);
        await queryRunner.query(`CREATE INDEX "IDX_deliveries_due" ON "deliveries"  ("next_attempt_at") WHERE "status" = 'pending'`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_deliveries_event_subscription" ON "deliveries"  ("event_id", "subscription_id") `);
        await queryRunner.query(`CREATE TABLE "delivery_attempts" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "delivery_id" uuid NOT NULL, "attempt" integer NOT NULL, "trigger" character varying(16) NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "status_code" integer, "latency_ms" integer NOT NULL, "outcome" character varying(16) NOT NULL, "error" character varying(512), "response_excerpt" character varying(512), CONSTRAINT "PK_41eba4eb5401d72860f7cd9a7ac" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_delivery_attempts_delivery" ON "delivery_attempts"  ("delivery_id", "attempt") `);
        await queryRunner.query(`CREATE TABLE "subscriptions" ("id" uuid NOT NULL, "name" character varying(128) NOT NULL, "url" character varying(2048) NOT NULL, "event_types" character varying array NOT NULL, "teams" character varying array, "codes" character varying array, "severities" character varying array, "sites" character varying array, "business_units" character varying array, "sealed_secrets" text NOT NULL, "active" boolean NOT NULL DEFAULT true, "rate_per_second" integer, "failing_since" TIMESTAMP WITH TIME ZONE, "disabled_reason" character varying(256), "created_by" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a87248d73155605cf782be9ee5e" PRIMARY KEY ("id"))`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "tx" bigint NOT NULL DEFAULT (pg_current_xact_id()::text)::bigint`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "prev_hash" bytea`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "hash" bytea`);
        await queryRunner.query(`CREATE INDEX "IDX_audit_events_unsealed" ON "audit_events"  ("tx", "id") WHERE "hash" IS NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_audit_events_chain" ON "audit_events"  ("tx", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_audit_events_actor" ON "audit_events"  ("actor_id", "id") `);
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
               AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.entity_type, NEW.entity_id, NEW.action, NEW.before, NEW.after, NEW.tx)
                   IS NOT DISTINCT FROM (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.entity_type, OLD.entity_id, OLD.action, OLD.before, OLD.after, OLD.tx)
            THEN RETURN NEW; END IF;
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`);
        await queryRunner.query(`DROP INDEX "IDX_audit_events_actor"`);
        await queryRunner.query(`DROP INDEX "IDX_audit_events_chain"`);
        await queryRunner.query(`DROP INDEX "IDX_audit_events_unsealed"`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "hash"`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "prev_hash"`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "tx"`);
        await queryRunner.query(`DROP TABLE "subscriptions"`);
        await queryRunner.query(`DROP INDEX "IDX_delivery_attempts_delivery"`);
        await queryRunner.query(`DROP TABLE "delivery_attempts"`);
        await queryRunner.query(`DROP INDEX "UQ_deliveries_event_subscription"`);
        await queryRunner.query(`DROP INDEX "IDX_deliveries_due"`);
        await queryRunner.query(`DROP INDEX "IDX_deliveries_case_order"`);
        await queryRunner.query(`DROP INDEX "IDX_deliveries_subscription"`);
        await queryRunner.query(`DROP TABLE "deliveries"`);
    }

}
