import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';

export const CASE_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface RoutingExplanation {
  policy: { id: string; version: string };
  ruleId: string | null;
  reason: string;
}

/** A case groups the exceptions that share a correlation key while it is unresolved. */
@Entity('cases')
// One unresolved case per correlation key: concurrent workers converge on it through ON CONFLICT.
@Index('UQ_cases_open_correlation', ['correlationKey'], { unique: true, where: `"status" <> 'resolved'` })
@Index('IDX_cases_status_opened', ['status', 'openedAt'])
@Index('IDX_cases_team_status', ['ownerTeam', 'status'])
@Index('IDX_cases_open_opened', ['openedAt'], { where: `"status" <> 'resolved' AND NOT "test_mode"` })
export class CaseRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('bigint')
  @Generated('increment')
  number!: string;

  @Column('varchar', { length: 16, default: 'open' })
  status!: CaseStatus;

  @Column('varchar', { name: 'correlation_key', length: 256 })
  correlationKey!: string;

  @Column('varchar', { length: 200 })
  title!: string;

  @Column('varchar', { length: 64 })
  code!: string;

  @Column('varchar', { length: 32 })
  category!: string;

  @Column('varchar', { length: 16 })
  severity!: string;

  @Column('varchar', { name: 'owner_team', length: 64 })
  ownerTeam!: string;

  @Column('varchar', { length: 128, nullable: true })
  assignee!: string | null;

  @Column('varchar', { name: 'business_unit', length: 64, nullable: true })
  businessUnit!: string | null;

  @Column('varchar', { length: 64, nullable: true })
  site!: string | null;

  @Column('boolean', { name: 'test_mode', default: false })
  testMode!: boolean;

  @Column('integer', { name: 'exception_count', default: 0 })
  exceptionCount!: number;

  @Column('numeric', { name: 'amount_at_risk', precision: 18, scale: 2, nullable: true })
  amountAtRisk!: string | null;

  @Column('char', { length: 3, nullable: true })
  currency!: string | null;

  @Column('timestamptz', { name: 'opened_at' })
  openedAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'acknowledged_at', nullable: true })
  acknowledgedAt!: Date | null;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;

  @Column('varchar', { name: 'root_cause', length: 64, nullable: true })
  rootCause!: string | null;

  @Column('text', { name: 'resolution_note', nullable: true })
  resolutionNote!: string | null;

  @Column('jsonb')
  routing!: RoutingExplanation;

  /** SLA contract (docs/reporting.md): set by the SLA module, read by reporting. */
  @Column('timestamptz', { name: 'ack_due_at', nullable: true })
  ackDueAt!: Date | null;

  @Column('timestamptz', { name: 'resolve_due_at', nullable: true })
  resolveDueAt!: Date | null;

  @Column('boolean', { name: 'sla_breached', nullable: true })
  slaBreached!: boolean | null;
}
