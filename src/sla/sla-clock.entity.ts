import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EMPTY_JSON_ARRAY } from '../database/column-defaults.js';

export const CLOCK_STATUSES = ['running', 'paused', 'stopped'] as const;
export type ClockStatus = (typeof CLOCK_STATUSES)[number];

/** A point on a clock where something happens: a warning, the breach, or an escalation. */
export interface ClockThreshold {
  at: number;
  kind: 'warning' | 'breach' | 'escalation';
  /** Escalations: "team-lead" or a team id. */
  to?: string;
  reassign?: boolean;
  /** Escalations: 1 for the first in the SLA definition, 2 for the next... */
  level?: number;
}

export interface FiredThreshold extends ClockThreshold {
  firedAt: string;
}

/**
 * One SLA clock of a case (acknowledge, resolve) or of a task. PostgreSQL is the truth: the due
 * times here decide; the BullMQ job for `next_threshold` is only the alarm and is re-armed from
 * this table at scheduler start. Time is business time in `calendar_id`: `consumed_ms` before
 * the running segment that began at `segment_started_at`.
 */
@Entity('sla_clocks')
@Index('IDX_sla_clocks_case', ['caseId'])
@Index('IDX_sla_clocks_next_due', ['nextDueAt'], { where: `"status" = 'running'` })
// One clock of a kind per case (per task) that is not stopped: a re-opened case gets fresh ones, the old keep their outcome.
@Index('UQ_sla_clocks_case_kind', ['caseId', 'kind'], { unique: true, where: `"task_id" IS NULL AND "status" <> 'stopped'` })
@Index('UQ_sla_clocks_task', ['taskId'], { unique: true, where: `"task_id" IS NOT NULL AND "status" <> 'stopped'` })
export class SlaClockRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'case_id' })
  caseId!: string;

  @Column('uuid', { name: 'task_id', nullable: true })
  taskId!: string | null;

  /** acknowledge | resolve (case clocks); task clocks are `resolve` with a task id. */
  @Column('varchar', { length: 16 })
  kind!: string;

  @Column('varchar', { name: 'sla_id', length: 64 })
  slaId!: string;

  @Column('varchar', { name: 'calendar_id', length: 64 })
  calendarId!: string;

  /**
   * The overlay whose effective policy planned this clock (null: the enterprise policy). Its calendar
   * is read from that scope's policy in force, so alarms count in the calendar the clock started with.
   */
  @Column('varchar', { name: 'policy_scope', length: 64, nullable: true })
  policyScope!: string | null;

  @Column('varchar', { length: 16 })
  status!: ClockStatus;

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('bigint', { name: 'target_ms' })
  targetMs!: string;

  @Column('bigint', { name: 'consumed_ms', default: 0 })
  consumedMs!: string;

  @Column('timestamptz', { name: 'segment_started_at', nullable: true })
  segmentStartedAt!: Date | null;

  /** When the target is reached if the clock keeps running (null while paused or stopped). */
  @Column('timestamptz', { name: 'due_at', nullable: true })
  dueAt!: Date | null;

  @Column('integer', { name: 'next_threshold', nullable: true })
  nextThreshold!: number | null;

  @Column('timestamptz', { name: 'next_due_at', nullable: true })
  nextDueAt!: Date | null;

  @Column('jsonb')
  thresholds!: ClockThreshold[];

  @Column('jsonb', { default: EMPTY_JSON_ARRAY })
  fired!: FiredThreshold[];

  @Column('timestamptz', { name: 'breached_at', nullable: true })
  breachedAt!: Date | null;

  @Column('timestamptz', { name: 'stopped_at', nullable: true })
  stoppedAt!: Date | null;

  /** met | breached | cancelled, once stopped. */
  @Column('varchar', { length: 16, nullable: true })
  outcome!: string | null;

  /** Why a target was chosen (impact condition, document date). */
  @Column('varchar', { length: 300 })
  basis!: string;
}
