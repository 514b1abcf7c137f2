import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `on-resolve`: planned with the case, waits until the case resolves, then becomes `pending`. */
export const ACTION_STATUSES = ['on-resolve', 'pending', 'running', 'done', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/**
 * One action a routing rule asked for on a case. The idempotency key (case + action + rule + a hash
 * of the action as declared; case-actions.service.ts) makes the row unique and goes to the target
 * system with every attempt; a `done` row is never run again.
 */
@Entity('case_actions')
@Index('UQ_case_actions_idempotency', ['idempotencyKey'], { unique: true })
@Index('IDX_case_actions_case', ['caseId'])
@Index('IDX_case_actions_unfinished', ['updatedAt'], { where: `"status" IN ('pending', 'running')` })
export class CaseActionRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'case_id' })
  caseId!: string;

  @Column('varchar', { name: 'rule_id', length: 64 })
  ruleId!: string;

  /** notify | http | <connectorId>.<action> */
  @Column('varchar', { length: 128 })
  action!: string;

  @Column('jsonb')
  params!: Record<string, unknown>;

  @Column('varchar', { name: 'idempotency_key', length: 300 })
  idempotencyKey!: string;

  @Column('varchar', { length: 16, default: 'pending' })
  status!: ActionStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  /** The last outcome: summary and the target's answer. */
  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;
}
