import { MigrationInterface, QueryRunner } from 'typeorm';

/** Document matching state (one row per matched subject) and expected documents (durable due-times). */
export class DocumentMatching1795792000000 implements MigrationInterface {
  name = 'DocumentMatching1795792000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "document_matches" ("subject_key" character varying(400) NOT NULL, "partner" character varying(128) NOT NULL, "po_number" character varying(128) NOT NULL, "test_mode" boolean NOT NULL, "kind" character varying(16) NOT NULL, "fingerprint" text NOT NULL, "has_findings" boolean NOT NULL, "correlation_key" character varying(256) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0cc46da9d43f9d40b6f5db1d3a4" PRIMARY KEY ("subject_key"))`);
    await queryRunner.query(`CREATE TABLE "expected_documents" ("id" uuid NOT NULL, "partner" character varying(128) NOT NULL, "po_number" character varying(128) NOT NULL, "test_mode" boolean NOT NULL, "kind" character varying(16) NOT NULL, "status" character varying(16) NOT NULL, "due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "connector_id" character varying(64) NOT NULL, "message_id" uuid NOT NULL, "correlation_key" character varying(256) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "settled_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_21639490072584fa70403f7eb36" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_expected_documents_due" ON "expected_documents" ("status", "due_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_expected_documents_subject" ON "expected_documents" ("partner", "po_number", "test_mode", "kind") `);
    // Matching reads every document of a partner's PO, including ship notices that name several POs (po_number NULL).
    await queryRunner.query(`CREATE INDEX "IDX_business_documents_partner_po" ON "business_documents" ("partner", "po_number")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_business_documents_partner_po"`);
    await queryRunner.query(`DROP INDEX "UQ_expected_documents_subject"`);
    await queryRunner.query(`DROP INDEX "IDX_expected_documents_due"`);
    await queryRunner.query(`DROP TABLE "expected_documents"`);
    await queryRunner.query(`DROP TABLE "document_matches"`);
  }
}
