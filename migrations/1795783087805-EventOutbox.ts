import type { MigrationInterface, QueryRunner } from "typeorm";

// Generated, reviewed: schema qualifiers and spurious jsonb default re-declarations removed.

export class EventOutbox1795783087805 implements MigrationInterface {
    name = 'EventOutbox1795783087805'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "outbox_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "tx" bigint NOT NULL DEFAULT (pg_current_xact_id()::text)::bigint, "type" character varying(32) NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "case_id" uuid, "entity_type" character varying(32) NOT NULL, "entity_id" character varying(128) NOT NULL, "team" character varying(64), "code" character varying(64), "severity" character varying(16), "site" character varying(64), "business_unit" character varying(64), "payload" jsonb NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6689a16c00d09b8089f6237f1d2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_outbox_events_case" ON "outbox_events"  ("case_id", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_outbox_events_unpublished" ON "outbox_events"  ("id") WHERE "published_at" IS NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_outbox_events_feed" ON "outbox_events"  ("tx", "id") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "IDX_outbox_events_feed"`);
        await queryRunner.query(`DROP INDEX "IDX_outbox_events_unpublished"`);
        await queryRunner.query(`DROP INDEX "IDX_outbox_events_case"`);
        await queryRunner.query(`DROP TABLE "outbox_events"`);
    }

}
