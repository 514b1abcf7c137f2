import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The last result of matching one subject (the ship notices of a PO, or one invoice): what was found
 * (fingerprint) and whether an exception is open for it. Re-running with the same findings raises
 * nothing; findings that disappear resolve the case.
 */
@Entity('document_matches')
export class DocumentMatchRecord {
  /** `<partner>|<test?>|<po>|asn` or `<partner>|<test?>|<po>|invoice:<number>`. */
  @PrimaryColumn('varchar', { name: 'subject_key', length: 400 })
  subjectKey!: string;

  @Column('varchar', { length: 128 })
  partner!: string;

  @Column('varchar', { name: 'po_number', length: 128 })
  poNumber!: string;

  @Column('boolean', { name: 'test_mode' })
  testMode!: boolean;

  @Column('varchar', { length: 16 })
  kind!: 'asn' | 'invoice';

  @Column('text')
  fingerprint!: string;

  @Column('boolean', { name: 'has_findings' })
  hasFindings!: boolean;

  @Column('varchar', { name: 'correlation_key', length: 256 })
  correlationKey!: string;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

export type ExpectedKind = 'po_ack' | 'ship_notice';
export type ExpectedStatus = 'waiting' | 'raised' | 'fulfilled';

/** A document we expect from a partner by a due time (durable timer checked by the scheduler role). */
@Entity('expected_documents')
@Index('UQ_expected_documents_subject', ['partner', 'poNumber', 'testMode', 'kind'], { unique: true })
@Index('IDX_expected_documents_due', ['status', 'dueAt'])
export class ExpectedDocumentRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 128 })
  partner!: string;

  @Column('varchar', { name: 'po_number', length: 128 })
  poNumber!: string;

  @Column('boolean', { name: 'test_mode' })
  testMode!: boolean;

  @Column('varchar', { length: 16 })
  kind!: ExpectedKind;

  @Column('varchar', { length: 16 })
  status!: ExpectedStatus;

  @Column('timestamptz', { name: 'due_at' })
  dueAt!: Date;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  /** The message of the purchase order: the exception is recorded against it. */
  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('varchar', { name: 'correlation_key', length: 256 })
  correlationKey!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'settled_at', nullable: true })
  settledAt!: Date | null;
}
