import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { EMPTY_JSON_ARRAY } from '../database/column-defaults.js';

export const CASE_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface RoutingExplanation {
  policy: { id: string; version: string; overlay?: string };
  ruleId: string | null;
  reason: string;
  /** Conditions of the matching rule that held; rules passed over although their conditions held. */
  conditions?: string[];
  skipped?: { ruleId: string; why: string }[];
}

/** `case` groups exceptions by correlation key; `incident` collects a storm (one code from one connector, over the policy's rate). */
export const CASE_KINDS = ['case', 'incident'] as const;

/** A case groups the exceptions that share a correlation key while it is unresolved. */
@Entity('cases')
// One unresolved case per correlation key: concurrent workers converge on it through ON CONFLICT.
@Index('UQ_cases_open_correlation', ['correlationKey'], { unique: true, where: `"status" <> 'resolved'` })
@Index('IDX_cases_status_opened', ['status', 'openedAt'])
@Index('IDX_cases_team_status', ['ownerTeam', 'status'])
// Re-open lookup: the last resolved case for a correlation key.
@Index('IDX_cases_correlation_resolved', ['correlationKey', 'resolvedAt'])
// Open cases by opened_at, covering (INCLUDE ...) WHERE status <> 'resolved' AND NOT test_mode (migrations 1795797000000,
// 1795799000000). TypeORM cannot express INCLUDE and reads the included columns as keys: left to the migrations.
@Index('IDX_cases_open_opened', { synchronize: false })
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

  @Column('varchar', { length: 16, default: 'case' })
  kind!: (typeof CASE_KINDS)[number];

  /** Times the case re-opened because its cause recurred within the policy's window after it was resolved. */
  @Column('integer', { name: 'reopen_count', default: 0 })
  reopenCount!: number;
  /** Highest SLA escalation reached (0 = none); see src/sla. */
  @Column('integer', { name: 'escalation_level', default: 0 })
  escalationLevel!: number;

  /** Teams added by SLA escalations, besides the owner team. */
  @Column('jsonb', { name: 'extra_teams', default: EMPTY_JSON_ARRAY })
  extraTeams!: string[];
  /** SLA contract (docs/reporting.md): set by the SLA module, read by reporting. */
  @Column('timestamptz', { name: 'ack_due_at', nullable: true })
  ackDueAt!: Date | null;

  @Column('timestamptz', { name: 'resolve_due_at', nullable: true })
  resolveDueAt!: Date | null;

  @Column('boolean', { name: 'sla_breached', nullable: true })
  slaBreached!: boolean | null;
}
