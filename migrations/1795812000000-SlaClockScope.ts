import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SLA clocks remember the policy scope they were planned in (`policy_scope`: the overlay id, null for the
 * enterprise policy), so a site's or business unit's own calendar counts its cases' clocks to the last
 * alarm. And a case (or task) may have stopped clocks of a kind next to a running one: a re-opened case
 * gets fresh clocks while the old ones keep their outcome, so uniqueness holds only among clocks not stopped.
 */
export class SlaClockScope1795812000000 implements MigrationInterface {
  name = 'SlaClockScope1795812000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sla_clocks" ADD "policy_scope" character varying(64)`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_case_kind"`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_task"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_case_kind" ON "sla_clocks" ("case_id", "kind") WHERE "task_id" IS NULL AND "status" <> 'stopped'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_task" ON "sla_clocks" ("task_id") WHERE "task_id" IS NOT NULL AND "status" <> 'stopped'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Back to one clock per case and kind (per task): the stopped clocks of earlier openings go.
    await queryRunner.query(`DELETE FROM "sla_clocks" s WHERE EXISTS (SELECT 1 FROM "sla_clocks" n WHERE n.case_id = s.case_id AND n.kind = s.kind
                               AND n.task_id IS NOT DISTINCT FROM s.task_id AND n.started_at > s.started_at)`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_task"`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_case_kind"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_task" ON "sla_clocks" ("task_id") WHERE "task_id" IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_case_kind" ON "sla_clocks" ("case_id", "kind") WHERE "task_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "sla_clocks" DROP COLUMN "policy_scope"`);
  }
}
