import { MigrationInterface, QueryRunner } from "typeorm";

/** Polling connectors (SFTP ...): lease + health per instance, and per-instance persisted state (file ledger). */
export class PollingConnectors1795796000000 implements MigrationInterface {
    name = 'PollingConnectors1795796000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "connector_poll_state" ("connector_id" character varying(64) NOT NULL, "lease_owner" character varying(64), "lease_until" TIMESTAMP WITH TIME ZONE, "next_poll_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_poll_at" TIMESTAMP WITH TIME ZONE, "last_success_at" TIMESTAMP WITH TIME ZONE, "last_item_at" TIMESTAMP WITH TIME ZONE, "consecutive_failures" integer NOT NULL DEFAULT '0', "last_error" jsonb, "down_message_id" uuid, "silent_message_id" uuid, "last_outcome" jsonb, CONSTRAINT "PK_325b74eb4613a42fc50a8c61849" PRIMARY KEY ("connector_id"))`);
        await queryRunner.query(`CREATE TABLE "connector_poll_items" ("connector_id" character varying(64) NOT NULL, "key" character varying(512) NOT NULL, "value" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0664a4dc467ea09a6aa585facf0" PRIMARY KEY ("connector_id", "key"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "connector_poll_items"`);
        await queryRunner.query(`DROP TABLE "connector_poll_state"`);
    }

}
