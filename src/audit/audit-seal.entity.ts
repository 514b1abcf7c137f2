import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One sealed block of the audit hash chain: the audit events from (first_tx, first_id) to
 * (last_tx, last_id) in commit-safe order, with each row's chain hash. The chain is kept here, not on
 * the audit rows, so sealing appends one row instead of rewriting every audit event (a non-HOT UPDATE
 * of each row and its indexes, which cost about as much PostgreSQL time as writing the trail itself).
 * Append-only, like the trail (database trigger).
 */
@Entity('audit_seals')
@Index('IDX_audit_seals_last', ['lastTx', 'lastId'])
export class AuditSeal {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column('bigint', { name: 'first_tx' })
  firstTx!: string;

  @Column('bigint', { name: 'first_id' })
  firstId!: string;

  @Column('bigint', { name: 'last_tx' })
  lastTx!: string;

  @Column('bigint', { name: 'last_id' })
  lastId!: string;

  /** How many audit events the block covers: a row removed or slipped into the range changes it. */
  @Column('int', { name: 'row_count' })
  rowCount!: number;

  /** Hash of the row before the block (the previous block's `hash`; zeros for the first). */
  @Column('bytea', { name: 'prev_hash' })
  prevHash!: Buffer;

  /** Chain hash of the block's last row. */
  @Column('bytea')
  hash!: Buffer;

  /** The 32-byte chain hash of every row in order, so verification names the first changed row. */
  @Column('bytea', { name: 'row_hashes' })
  rowHashes!: Buffer;

  @Column('timestamptz', { name: 'sealed_at', default: () => 'now()' })
  sealedAt!: Date;
}
