import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/**
 * One event for one subscription: the unit of delivery. Its id is the `webhook-id`, the same on
 * every retry and replay, so receivers deduplicate. Unique (event, subscription): a relay that
 * runs twice creates nothing twice. The row, not the queue, is the truth: `next_attempt_at` says
 * when it is due, and the sweeper re-enqueues anything due that Redis lost.
 */
@Entity('deliveries')
@Index('UQ_deliveries_event_subscription', ['eventId', 'subscriptionId'], { unique: true })
@Index('IDX_deliveries_due', ['nextAttemptAt'], { where: `"status" = 'pending'` })
@Index('IDX_deliveries_case_order', ['subscriptionId', 'caseId', 'seq'], { where: `"status" = 'pending'` })
// First attempts, taken from the table in order by the senders (DeliveryLedger.claimFresh).
@Index('IDX_deliveries_fresh', ['subscriptionId', 'seq'], { where: `"status" = 'pending' AND "attempts" = 0` })
@Index('IDX_deliveries_subscription', ['subscriptionId', 'status', 'createdAt'])
export class Delivery {
  // DEFAULT gen_random_uuid() (migrations); TypeORM reads that default back as a generated uuid column.
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Creation order, which follows event (tx, id) order: per-case ordering compares it. */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: string;

  @Column('bigint', { name: 'event_id' })
  eventId!: string;

  @Column('uuid', { name: 'subscription_id' })
  subscriptionId!: string;

  @Column('uuid', { name: 'case_id', nullable: true })
  caseId!: string | null;

  @Column('varchar', { name: 'event_type', length: 32 })
  eventType!: string;

  @Column('varchar', { length: 16, default: 'pending' })
  status!: DeliveryStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('timestamptz', { name: 'next_attempt_at', default: () => 'now()' })
  nextAttemptAt!: Date;

  /** A worker's claim while its HTTP request runs; an expired lease may be taken over. */
  @Column('timestamptz', { name: 'lease_until', nullable: true })
  leaseUntil!: Date | null;

  /** Pending because someone replayed it: one attempt, then back to dead if it fails. */
  @Column('boolean', { default: false })
  manual!: boolean;

  @Column('integer', { name: 'last_status_code', nullable: true })
  lastStatusCode!: number | null;

  @Column('varchar', { name: 'last_error', length: 512, nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @Column('timestamptz', { name: 'dead_at', nullable: true })
  deadAt!: Date | null;
}

/** Every HTTP attempt of a delivery, automatic or manual: the delivery log. */
@Entity('delivery_attempts')
@Index('IDX_delivery_attempts_delivery', ['deliveryId', 'attempt'])
export class DeliveryAttempt {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column('uuid', { name: 'delivery_id' })
  deliveryId!: string;

  @Column('integer')
  attempt!: number;

  @Column('varchar', { length: 16 })
  trigger!: 'automatic' | 'manual';

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('integer', { name: 'status_code', nullable: true })
  statusCode!: number | null;

  @Column('integer', { name: 'latency_ms' })
  latencyMs!: number;

  /** delivered · retry · dead · gone (410) · refused (address not allowed) */
  @Column('varchar', { length: 16 })
  outcome!: string;

  @Column('varchar', { length: 512, nullable: true })
  error!: string | null;

  @Column('varchar', { name: 'response_excerpt', length: 512, nullable: true })
  responseExcerpt!: string | null;
}
