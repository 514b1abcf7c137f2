import type { MigrationInterface, QueryRunner } from 'typeorm';

// Generated (audit_seals table, dropped hash columns), then edited by hand: the chain sealed so far
// moves into one seal, and both tables become strictly append-only (the sealer no longer updates
// audit rows). `down` puts the columns back empty: the sealer then re-seals from the first row and,
// the chain being deterministic, writes the same hashes again.
export class AuditSeals1795798000000 implements MigrationInterface {
  name = 'AuditSeals1795798000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "audit_seals" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "first_tx" bigint NOT NULL, "first_id" bigint NOT NULL, "last_tx" bigint NOT NULL, "last_id" bigint NOT NULL, "row_count" integer NOT NULL, "prev_hash" bytea NOT NULL, "hash" bytea NOT NULL, "row_hashes" bytea NOT NULL, "sealed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_73897a4e1e644bc3045fdc33b9e" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_audit_seals_last" ON "audit_seals"  ("last_tx", "last_id") `);
    // The rows sealed under the old scheme become the first seal (their hashes are already chained).
    await q.query(`INSERT INTO audit_seals (first_tx, first_id, last_tx, last_id, row_count, prev_hash, hash, row_hashes)
      SELECT (array_agg(tx ORDER BY tx, id))[1], (array_agg(id ORDER BY tx, id))[1],
             (array_agg(tx ORDER BY tx DESC, id DESC))[1], (array_agg(id ORDER BY tx DESC, id DESC))[1], count(*),
             (array_agg(prev_hash ORDER BY tx, id))[1], (array_agg(hash ORDER BY tx DESC, id DESC))[1], string_agg(hash, ''::bytea ORDER BY tx, id)
        FROM audit_events WHERE hash IS NOT NULL HAVING count(*) > 0`);
    await q.query(`DROP INDEX "IDX_audit_events_unsealed"`);
    await q.query(`ALTER TABLE "audit_events" DROP COLUMN "prev_hash"`);
    await q.query(`ALTER TABLE "audit_events" DROP COLUMN "hash"`);
    await q.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`);
    await q.query(`CREATE TRIGGER audit_seals_no_update_delete BEFORE UPDATE OR DELETE ON "audit_seals" FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON "audit_seals" FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER audit_seals_no_truncate ON "audit_seals"`);
    await q.query(`DROP TRIGGER audit_seals_no_update_delete ON "audit_seals"`);
    await q.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
               AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.entity_type, NEW.entity_id, NEW.action, NEW.before, NEW.after, NEW.tx)
                   IS NOT DISTINCT FROM (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.entity_type, OLD.entity_id, OLD.action, OLD.before, OLD.after, OLD.tx)
            THEN RETURN NEW; END IF;
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`);
    await q.query(`ALTER TABLE "audit_events" ADD "hash" bytea`);
    await q.query(`ALTER TABLE "audit_events" ADD "prev_hash" bytea`);
    await q.query(`CREATE INDEX "IDX_audit_events_unsealed" ON "audit_events"  ("tx", "id") WHERE "hash" IS NULL`);
    await q.query(`DROP INDEX "IDX_audit_seals_last"`);
    await q.query(`DROP TABLE "audit_seals"`);
  }
}
