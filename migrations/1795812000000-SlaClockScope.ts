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
    // Keyed as the old unique indexes were (a task's clocks by task alone: its kind may differ between
    // rounds), newest kept, ties broken by id, so the indexes below can always be built.
    await queryRunner.query(`DELETE FROM "sla_clocks" WHERE id IN (
      SELECT id FROM (SELECT id, row_number() OVER (
               PARTITION BY CASE WHEN task_id IS NULL THEN case_id::text || ':' || kind ELSE 'task:' || task_id::text END
               ORDER BY started_at DESC, id DESC) AS n
             FROM "sla_clocks") ranked
       WHERE n > 1)`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_task"`);
    await queryRunner.query(`DROP INDEX "UQ_sla_clocks_case_kind"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_task" ON "sla_clocks" ("task_id") WHERE "task_id" IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sla_clocks_case_kind" ON "sla_clocks" ("case_id", "kind") WHERE "task_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "sla_clocks" DROP COLUMN "policy_scope"`);
  }
}
