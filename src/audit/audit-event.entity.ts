import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CURRENT_TRANSACTION_ID } from '../database/column-defaults.js';

export type ActorType = 'system' | 'api-key' | 'connector';

/**
 * One entry of the append-only audit trail. Rows are inserted in the same transaction
 * as the change they describe; a database trigger refuses UPDATE and DELETE.
 */
@Entity('audit_events')
@Index('IDX_audit_events_entity', ['entityType', 'entityId', 'id'])
@Index('IDX_audit_events_occurred', ['occurredAt'])
@Index('IDX_audit_events_actor', ['actorId', 'id'])
// On (tx, id), in this order (migrations). TypeORM reads an index's columns back in table order (id, tx) and would recreate it on
// every migration:generate: left to the migrations (synchronize: false).
@Index('IDX_audit_events_chain', { synchronize: false })
export class AuditEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column('timestamptz', { name: 'occurred_at', default: () => 'now()' })
  occurredAt!: Date;

  @Column('varchar', { name: 'actor_type', length: 16 })
  actorType!: ActorType;

  @Column('varchar', { name: 'actor_id', length: 128 })
  actorId!: string;

  @Column('varchar', { name: 'entity_type', length: 32 })
  entityType!: string;

  @Column('varchar', { name: 'entity_id', length: 128 })
  entityId!: string;

  @Column('varchar', { length: 64 })
  action!: string;

  @Column('jsonb', { nullable: true })
  before!: Record<string, unknown> | null;

  @Column('jsonb', { nullable: true })
  after!: Record<string, unknown> | null;

  /** The writing transaction (as in the outbox): the chain (AuditSeal) follows commit-safe (tx, id) order. */
  @Column('bigint', { default: CURRENT_TRANSACTION_ID })
  tx!: string;
}
