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

  /**
   * What the result was computed from: tolerances and the content hashes of the current documents it
   * depends on. The same digest again means the documents did not change: the subject is not re-matched.
   */
  @Column('varchar', { name: 'inputs_digest', length: 64, nullable: true })
  inputsDigest!: string | null;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

/**
 * The part of a stored purchase order, ship notice, invoice or PO acknowledgment that matching reads,
 * one row per document and PO it names (a ship notice for several POs has one row per PO, with that
 * PO's lines). Written with the document; matching reads these few fields per line instead of the
 * whole payload (an 856's HL tree is several times larger).
 */
@Entity('document_match_lines')
@Index('IDX_document_match_lines_subject', ['partner', 'poNumber', 'testMode'])
export class DocumentMatchLinesRecord {
  /** business_documents.id */
  @PrimaryColumn('uuid', { name: 'document_id' })
  documentId!: string;

  @PrimaryColumn('varchar', { name: 'po_number', length: 128 })
  poNumber!: string;

  @Column('varchar', { length: 128 })
  partner!: string;

  @Column('boolean', { name: 'test_mode' })
  testMode!: boolean;

  @Column('varchar', { length: 64 })
  type!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { name: 'shipment_id', length: 128, nullable: true })
  shipmentId!: string | null;

  @Column('varchar', { name: 'invoice_number', length: 128, nullable: true })
  invoiceNumber!: string | null;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('varchar', { name: 'document_date', length: 32, nullable: true })
  documentDate!: string | null;

  @Column('jsonb', { nullable: true })
  dates!: Record<string, string> | null;

  @Column('varchar', { length: 8, nullable: true })
  currency!: string | null;

  /** Purchase orders: the earliest line's requested delivery date (the ship notice's due time when the header has none). */
  @Column('varchar', { name: 'requested_delivery', length: 32, nullable: true })
  requestedDelivery!: string | null;

  /** Only the line fields the matcher reads (`MATCH_LINE_FIELDS`), column by column (`KeptLines`); no lines for PO acknowledgments. */
  @Column('jsonb')
  lines!: { count: number; values: Record<string, (string | number | null)[]> };

  /** md5 of document date, dates, currency and lines, computed by PostgreSQL on insert. */
  @Column('varchar', { name: 'content_hash', length: 32 })
  contentHash!: string;
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
