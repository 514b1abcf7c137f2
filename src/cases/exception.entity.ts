import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CanonicalException } from '../canonical/exception.schema.js';

/**
 * A stored canonical exception. The full validated document is kept in `payload`;
 * the columns beside it are the ones routing, filtering and reporting query.
 */
@Entity('exceptions')
@Index('UQ_exceptions_message_ordinal', ['messageId', 'ordinal'], { unique: true })
@Index('IDX_exceptions_case', ['caseId'])
@Index('IDX_exceptions_code_detected', ['code', 'detectedAt'])
@Index('IDX_exceptions_detected', ['detectedAt'])
// Repeat detection: the newest exception with the same fingerprint (code + references) within the policy's window.
@Index('IDX_exceptions_fingerprint_seen', ['fingerprint', 'lastSeenAt'], { where: '"fingerprint" IS NOT NULL' })
// Storm detection counts one connector's exceptions of one code in the last minute.
@Index('IDX_exceptions_connector_code_detected', ['connectorId', 'code', 'detectedAt'])
export class ExceptionRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  /** Position of this exception among those its message produced; with messageId, its idempotency key. */
  @Column('integer')
  ordinal!: number;

  @Column('varchar', { length: 64 })
  code!: string;

  @Column('varchar', { length: 32 })
  category!: string;

  @Column('varchar', { length: 16 })
  severity!: string;

  @Column('varchar', { length: 200 })
  title!: string;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { name: 'document_type', length: 64 })
  documentType!: string;

  @Column('boolean', { name: 'test_mode' })
  testMode!: boolean;

  @Column('varchar', { name: 'business_unit', length: 64, nullable: true })
  businessUnit!: string | null;

  @Column('varchar', { length: 64, nullable: true })
  site!: string | null;

  @Column('varchar', { name: 'order_ref', length: 128, nullable: true })
  orderRef!: string | null;

  @Column('varchar', { name: 'po_ref', length: 128, nullable: true })
  poRef!: string | null;

  @Column('varchar', { name: 'customer_ref', length: 128, nullable: true })
  customerRef!: string | null;

  @Column('varchar', { name: 'supplier_ref', length: 128, nullable: true })
  supplierRef!: string | null;

  @Column('varchar', { length: 128, nullable: true })
  sku!: string | null;

  @Column('varchar', { name: 'customer_tier', length: 32, nullable: true })
  customerTier!: string | null;

  @Column('numeric', { name: 'amount_at_risk', precision: 18, scale: 2, nullable: true })
  amountAtRisk!: string | null;

  @Column('char', { length: 3, nullable: true })
  currency!: string | null;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;

  @Column('timestamptz', { name: 'detected_at' })
  detectedAt!: Date;

  @Column('varchar', { name: 'correlation_key', length: 256 })
  correlationKey!: string;

  @Column('varchar', { name: 'mapping_id', length: 128 })
  mappingId!: string;

  @Column('varchar', { name: 'mapping_version', length: 32 })
  mappingVersion!: string;

  @Column('uuid', { name: 'case_id', nullable: true })
  caseId!: string | null;

  /** Reprocess: the earlier exception of the same message this one replaces. */
  @Column('uuid', { nullable: true })
  supersedes!: string | null;

  /** Set when a reprocess replaced or withdrew this exception; the message's current result excludes it. */
  @Column('timestamptz', { name: 'superseded_at', nullable: true })
  supersededAt!: Date | null;

  @Column('jsonb')
  payload!: CanonicalException;

  /**
   * The severity the source reported, before routing: `severity` and `payload.severity` hold the one the
   * routing decision gave. Policy simulation routes stored exceptions from this one. Null on rows
   * recorded before it was kept.
   */
  @Column('varchar', { name: 'reported_severity', length: 16, nullable: true })
  reportedSeverity!: string | null;

  /** Hash of test mode + connector + code + correlation key + references + title, quantities and amount (noise-control.ts fingerprintOf); set when the policy counts identical repeats. */
  @Column('varchar', { length: 64, nullable: true })
  fingerprint!: string | null;

  /** How often this exception was reported: identical repeats within the window add to it instead of adding rows. */
  @Column('integer', { default: 1 })
  occurrences!: number;

  @Column('timestamptz', { name: 'last_seen_at', nullable: true })
  lastSeenAt!: Date | null;

  /** A triage suggestion (code, severity, confidence, model version) for free-text intake; never a silent decision. */
  @Column('jsonb', { nullable: true })
  suggestion!: Record<string, unknown> | null;
}
