import type { MigrationInterface, QueryRunner } from 'typeorm';

// exceptions.reported_severity: the severity the source reported, before the routing decision replaced
// it in `severity` and `payload` (policy simulation routes stored history from it). Rows stored before
// this migration keep null: their reported severity was not kept and cannot be recovered.
export class ExceptionReportedSeverity1795813000000 implements MigrationInterface {
  name = 'ExceptionReportedSeverity1795813000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "exceptions" ADD "reported_severity" character varying(16)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "exceptions" DROP COLUMN "reported_severity"`);
  }
}
