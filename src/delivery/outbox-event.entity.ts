import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CURRENT_TRANSACTION_ID } from '../database/column-defaults.js';

export const EVENT_TYPES = ['case.opened', 'case.updated', 'case.escalated', 'case.resolved', 'case.reopened', 'exception.created', 'message.failed', 'sla.warning', 'sla.breached', 'case.notified', 'case.action.done', 'case.action.failed', 'case.task.opened', 'case.task.reopened', 'case.task.completed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The transactional outbox: every event is written in the same transaction as the change that
 * caused it, so a rolled-back change publishes nothing and a committed one is never lost.
 * The feed (GET /v1/events) orders by (tx, id): see EventFeed.read for why not by id alone.
 */
@Entity('outbox_events')
// On (tx, id), in this order (migrations); TypeORM reads it back as (id, tx), hence synchronize: false (see AuditEvent's chain index).
@Index('IDX_outbox_events_feed', { synchronize: false })
@Index('IDX_outbox_events_unpublished', ['id'], { where: '"published_at" IS NULL' })
@Index('IDX_outbox_events_case', ['caseId', 'id'])
export class OutboxEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  /** The writing transaction's id (xid8 as bigint): rows become visible in this order, ids do not. */
  @Column('bigint', { default: CURRENT_TRANSACTION_ID })
  tx!: string;

  @Column('varchar', { length: 32 })
  type!: EventType;

  @Column('timestamptz', { name: 'occurred_at', default: () => 'now()' })
  occurredAt!: Date;

  @Column('uuid', { name: 'case_id', nullable: true })
  caseId!: string | null;

  @Column('varchar', { name: 'entity_type', length: 32 })
  entityType!: string;

  @Column('varchar', { name: 'entity_id', length: 128 })
  entityId!: string;

  /** Filter facets copied out of the payload: team, code, severity, site, business unit. */
  @Column('varchar', { length: 64, nullable: true })
  team!: string | null;

  @Column('varchar', { length: 64, nullable: true })
  code!: string | null;

  @Column('varchar', { length: 16, nullable: true })
  severity!: string | null;

  @Column('varchar', { length: 64, nullable: true })
  site!: string | null;

  @Column('varchar', { name: 'business_unit', length: 64, nullable: true })
  businessUnit!: string | null;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  /** Set by the relay once handed to delivery (subscriber webhooks). */
  @Column('timestamptz', { name: 'published_at', nullable: true })
  publishedAt!: Date | null;
}
