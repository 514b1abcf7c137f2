import type { MigrationInterface, QueryRunner } from "typeorm";

// Generated, reviewed: only the new column kept (TypeORM re-declares jsonb defaults spuriously).

export class InboundMessageMeta1795781232438 implements MigrationInterface {
    name = 'InboundMessageMeta1795781232438'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "inbound_messages" ADD "meta" jsonb NOT NULL DEFAULT '{}'::jsonb`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "inbound_messages" DROP COLUMN "meta"`);
    }

}
