import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A persisted counter per connector and scope (e.g. the ISA13 we use towards one partner). */
@Entity('connector_counters')
export class ConnectorCounter {
  @PrimaryColumn('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @PrimaryColumn('varchar', { length: 128 })
  scope!: string;

  @Column('bigint')
  value!: string;
}

/** A key claimed by a message (e.g. a partner's interchange control number), for duplicate detection. */
@Entity('connector_claims')
export class ConnectorClaim {
  @PrimaryColumn('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @PrimaryColumn('varchar', { length: 256 })
  key!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('timestamptz', { name: 'claimed_at' })
  claimedAt!: Date;
}
