import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per polling connector instance: the lease that lets one hub process poll it at a time,
 * when to poll next, and its health (GET /v1/connectors/{id}/status).
 */
@Entity('connector_poll_state')
export class ConnectorPollState {
  @PrimaryColumn('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { name: 'lease_owner', length: 64, nullable: true })
  leaseOwner!: string | null;

  @Column('timestamptz', { name: 'lease_until', nullable: true })
  leaseUntil!: Date | null;

  @Column('timestamptz', { name: 'next_poll_at', default: () => 'now()' })
  nextPollAt!: Date;

  @Column('timestamptz', { name: 'last_poll_at', nullable: true })
  lastPollAt!: Date | null;

  @Column('timestamptz', { name: 'last_success_at', nullable: true })
  lastSuccessAt!: Date | null;

  /** Last time a poll ingested something (for INTEGRATION.FEED_SILENT). */
  @Column('timestamptz', { name: 'last_item_at', nullable: true })
  lastItemAt!: Date | null;

  @Column('integer', { name: 'consecutive_failures', default: 0 })
  consecutiveFailures!: number;

  @Column('jsonb', { name: 'last_error', nullable: true })
  lastError!: { kind: string; message: string; at: string } | null;

  /** The message the open CONNECTOR_DOWN exception hangs on; cleared when a poll succeeds again. */
  @Column('uuid', { name: 'down_message_id', nullable: true })
  downMessageId!: string | null;

  @Column('uuid', { name: 'silent_message_id', nullable: true })
  silentMessageId!: string | null;

  @Column('jsonb', { name: 'last_outcome', nullable: true })
  lastOutcome!: Record<string, unknown> | null;
}

/** Per-instance persisted state of a polling connector (file ledger entries, watermarks), JSON by key. */
@Entity('connector_poll_items')
export class ConnectorPollItem {
  @PrimaryColumn('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @PrimaryColumn('varchar', { length: 512 })
  key!: string;

  @Column('jsonb')
  value!: unknown;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}
