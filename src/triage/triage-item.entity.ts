import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const TRIAGE_STATUSES = ['pending', 'routed', 'decided', 'rejected'] as const;
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];

export interface TriageSuggestion {
  code: string;
  severity: string;
  confidence: number;
  modelVersion: string;
  alternatives: { code: string; severity: string; confidence: number }[];
}

/**
 * A free-text report (customer complaint, carrier note, forwarded email) and what the classifier
 * suggested. Above the confidence threshold it is routed at once (`routed`); below, it waits for a
 * person (`pending`) who confirms or corrects the code (`decided`) or discards it (`rejected`).
 */
@Entity('triage_items')
@Index('IDX_triage_items_status_received', ['status', 'receivedAt'])
export class TriageItem {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 16 })
  status!: TriageStatus;

  @Column('varchar', { length: 32 })
  channel!: string;

  @Column('text')
  text!: string;

  /** References, site, business unit, customer tier given with the text. */
  @Column('jsonb')
  context!: Record<string, unknown>;

  @Column('jsonb')
  suggestion!: TriageSuggestion;

  @Column('varchar', { name: 'submitted_by', length: 128 })
  submittedBy!: string;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('uuid', { name: 'exception_id', nullable: true })
  exceptionId!: string | null;

  @Column('varchar', { name: 'decided_by', length: 128, nullable: true })
  decidedBy!: string | null;

  @Column('timestamptz', { name: 'decided_at', nullable: true })
  decidedAt!: Date | null;

  /** The person's decision: code and severity confirmed or corrected, or the reason for rejecting. */
  @Column('jsonb', { nullable: true })
  decision!: Record<string, unknown> | null;
}
