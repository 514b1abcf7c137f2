import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const TASK_STATUSES = ['open', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Work for one team on a case, opened by a routing rule's `tasks`; runs in parallel with the others. */
@Entity('case_tasks')
@Index('UQ_case_tasks_case_spec', ['caseId', 'specId'], { unique: true })
export class CaseTaskRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'case_id' })
  caseId!: string;

  /** The task id in the rule (stable: a case never gets the same task twice). */
  @Column('varchar', { name: 'spec_id', length: 64 })
  specId!: string;

  @Column('varchar', { length: 64 })
  team!: string;

  @Column('varchar', { length: 200 })
  title!: string;

  @Column('boolean')
  required!: boolean;

  @Column('varchar', { length: 16, default: 'open' })
  status!: TaskStatus;

  @Column('varchar', { name: 'rule_id', length: 64, nullable: true })
  ruleId!: string | null;

  @Column('timestamptz', { name: 'opened_at' })
  openedAt!: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @Column('varchar', { name: 'completed_by', length: 128, nullable: true })
  completedBy!: string | null;

  @Column('text', { nullable: true })
  note!: string | null;
}
