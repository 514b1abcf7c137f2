import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

interface ChainRow {
  id: string;
  tx: string;
  ts_us: string;
  actor_type: string;
  actor_id: string;
  entity_type: string;
  entity_id: string;
  action: string;
  before: unknown;
  after: unknown;
  prev_hash?: Buffer | null;
  hash?: Buffer | null;
}

const GENESIS = Buffer.alloc(32);
const COLUMNS = `id, tx, (extract(epoch FROM occurred_at) * 1000000)::bigint::text AS ts_us, actor_type, actor_id, entity_type, entity_id, action, before, after`;

export interface VerifyReport {
  ok: boolean;
  checked: number;
  /** Rows not yet sealed (committed within the last seal interval). */
  unsealed: number;
  firstBroken: { id: string; reason: string } | null;
}

/**
 * Tamper evidence for the audit trail: one hash chain over every audit event in commit-safe
 * (tx, id) order, hash = SHA-256(previous hash ‖ canonical JSON of the row).
 *
 * Sealing happens after commit, by one sealer at a time (advisory lock, scheduler role), not in the
 * INSERT: chaining inside the writing transaction would serialise every pipeline transaction on the
 * chain head for as long as it stays open. Rows of transactions older than every running one (the
 * snapshot xmin) are final in (tx, id) order, so the chain never needs to insert into its middle.
 * The append-only trigger allows exactly this one update (hash from NULL, nothing else changed).
 */
@Injectable()
export class AuditChain {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Seals committed, unsealed rows; answers how many. */
  async seal(batch = 5000): Promise<number> {
    return this.ds.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':audit-chain')) AS locked`);
      if (!locked) return 0;
      const rows: ChainRow[] = await m.query(
        `SELECT ${COLUMNS} FROM audit_events WHERE hash IS NULL AND tx < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
          ORDER BY tx, id LIMIT $1`,
        [batch],
      );
      if (!rows.length) return 0;
      const [head] = await m.query(`SELECT hash FROM audit_events WHERE hash IS NOT NULL ORDER BY tx DESC, id DESC LIMIT 1`);
      let prev: Buffer = head?.hash ?? GENESIS;
      const ids: string[] = [];
      const prevs: Buffer[] = [];
      const hashes: Buffer[] = [];
      for (const r of rows) {
        const h = chainHash(prev, r);
        ids.push(r.id);
        prevs.push(prev);
        hashes.push(h);
        prev = h;
      }
      await m.query(
        `UPDATE audit_events a SET prev_hash = v.p, hash = v.h FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS v(id, p, h) WHERE a.id = v.id`,
        [ids, prevs, hashes],
      );
      return rows.length;
    });
  }

  /** Walks the chain from the start and reports the first row whose link does not hold. */
  async verify(): Promise<VerifyReport> {
    let prev: Buffer = GENESIS;
    let checked = 0;
    let after: [string, string] = ['-1', '-1'];
    for (;;) {
      const rows: ChainRow[] = await this.ds.query(
        `SELECT ${COLUMNS}, prev_hash, hash FROM audit_events WHERE hash IS NOT NULL AND (tx, id) > ($1::bigint, $2::bigint) ORDER BY tx, id LIMIT 5000`,
        after,
      );
      for (const r of rows) {
        if (!r.prev_hash || !prev.equals(r.prev_hash)) {
          return this.report(checked, { id: r.id, reason: 'prev_hash does not match the hash of the row before it (a row was removed, reordered or its hash changed)' });
        }
        if (!chainHash(prev, r).equals(r.hash!)) {
          return this.report(checked, { id: r.id, reason: 'row content does not match its hash (the row was changed after it was written)' });
        }
        prev = r.hash!;
        checked++;
      }
      if (rows.length < 5000) break;
      const last = rows[rows.length - 1];
      after = [last.tx, last.id];
    }
    return this.report(checked, null);
  }

  private async report(checked: number, firstBroken: VerifyReport['firstBroken']): Promise<VerifyReport> {
    const [{ n }] = await this.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE hash IS NULL`);
    return { ok: !firstBroken, checked, unsealed: n, firstBroken };
  }
}

function chainHash(prev: Buffer, r: ChainRow): Buffer {
  const row = { id: r.id, tx: r.tx, occurredAtUs: r.ts_us, actorType: r.actor_type, actorId: r.actor_id, entityType: r.entity_type, entityId: r.entity_id, action: r.action, before: r.before ?? null, after: r.after ?? null };
  return createHash('sha256').update(prev).update(canonicalJson(row)).digest();
}

/** JSON with object keys sorted at every level, so the same row always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}
