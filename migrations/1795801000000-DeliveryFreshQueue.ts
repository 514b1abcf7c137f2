import type { MigrationInterface, QueryRunner } from 'typeorm';

// Generated (entity index IDX_deliveries_fresh), reviewed. First attempts are taken from the table
// itself (DeliveryLedger.claimFresh) instead of a BullMQ job each: this index serves that query,
// per subscription in delivery order, and holds only deliveries not yet attempted.
export class DeliveryFreshQueue1795801000000 implements MigrationInterface {
  name = 'DeliveryFreshQueue1795801000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_deliveries_fresh" ON "deliveries"  ("subscription_id", "seq") WHERE "status" = 'pending' AND "attempts" = 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_deliveries_fresh"`);
  }
}
