import { MigrationInterface, QueryRunner } from "typeorm";

export class VersionedArtifacts1795791000000 implements MigrationInterface {
    name = 'VersionedArtifacts1795791000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "artifact_versions" ("kind" character varying(16) NOT NULL, "artifact_id" character varying(128) NOT NULL, "version" character varying(64) NOT NULL, "content" jsonb NOT NULL, "sha256" character(64) NOT NULL, "origin" character varying(16) NOT NULL, "published_by" character varying(128) NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_402c56364c3eb96896e9eb98576" PRIMARY KEY ("kind", "artifact_id", "version"))`);
        await queryRunner.query(`CREATE INDEX "IDX_artifact_versions_published" ON "artifact_versions"  ("kind", "artifact_id", "published_at") `);
        await queryRunner.query(`CREATE TABLE "artifact_activations" ("kind" character varying(16) NOT NULL, "artifact_id" character varying(128) NOT NULL, "scope" character varying(200) NOT NULL, "version" character varying(64) NOT NULL, "history" jsonb NOT NULL DEFAULT '[]'::jsonb, "generation" bigint NOT NULL, "activated_by" character varying(128) NOT NULL, "activated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_921ce2e9e27193dd74dfdeccb97" PRIMARY KEY ("kind", "artifact_id", "scope"))`);
        // Hand-added: every activation takes the next number; processes reload when the highest one moves.
        await queryRunner.query(`CREATE SEQUENCE "artifact_generation"`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "supersedes" uuid`);
        await queryRunner.query(`ALTER TABLE "exceptions" ADD "superseded_at" TIMESTAMP WITH TIME ZONE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "superseded_at"`);
        await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "supersedes"`);
        await queryRunner.query(`DROP SEQUENCE "artifact_generation"`);
        await queryRunner.query(`DROP TABLE "artifact_activations"`);
        await queryRunner.query(`DROP INDEX "IDX_artifact_versions_published"`);
        await queryRunner.query(`DROP TABLE "artifact_versions"`);
    }

}
