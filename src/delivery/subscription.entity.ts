import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** One signing secret of a subscription; during rotation the old one stays valid until expiresAt. */
export interface SigningSecret {
  secret: string;
  createdAt: string;
  expiresAt: string | null;
}

/**
 * A downstream tool (service desk, chat, BI, ERP) that receives events as signed webhooks.
 * Filters are lists; a NULL list matches everything. Secrets are sealed (SecretBox), never returned.
 */
@Entity('subscriptions')
export class Subscription {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 128 })
  name!: string;

  @Column('varchar', { length: 2048 })
  url!: string;

  @Column('varchar', { name: 'event_types', array: true })
  eventTypes!: string[];

  @Column('varchar', { array: true, nullable: true })
  teams!: string[] | null;

  @Column('varchar', { array: true, nullable: true })
  codes!: string[] | null;

  @Column('varchar', { array: true, nullable: true })
  severities!: string[] | null;

  @Column('varchar', { array: true, nullable: true })
  sites!: string[] | null;

  @Column('varchar', { name: 'business_units', array: true, nullable: true })
  businessUnits!: string[] | null;

  /** SigningSecret[] sealed with HUB_MASTER_KEY. */
  @Column('text', { name: 'sealed_secrets' })
  sealedSecrets!: string;

  @Column('boolean', { default: true })
  active!: boolean;

  /** Deliveries per second to this endpoint, shared by every worker (Redis window); NULL = no limit. */
  @Column('integer', { name: 'rate_per_second', nullable: true })
  ratePerSecond!: number | null;

  /** Start of the current run of failed attempts; cleared by a success. */
  @Column('timestamptz', { name: 'failing_since', nullable: true })
  failingSince!: Date | null;

  @Column('varchar', { name: 'disabled_reason', length: 256, nullable: true })
  disabledReason!: string | null;

  @Column('varchar', { name: 'created_by', length: 128 })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
