import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EMPTY_JSON_ARRAY, EMPTY_JSON_OBJECT } from '../database/column-defaults.js';

/** `staged`: stored by a poll but held back until its group (e.g. the whole file) is stored. */
export const MESSAGE_STATUSES = ['staged', 'received', 'parsed', 'mapped', 'routed', 'failed', 'dead'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface MessageError {
  stage: 'accept' | 'parse' | 'map' | 'route' | 'pipeline';
  message: string;
  at: string;
  attempt?: number;
  position?: { offset?: number; line?: number; column?: number };
}

/**
 * An inbound message exactly as it arrived. It is written before the sender gets its
 * answer, so nothing acknowledged can be lost; everything later is derived from it.
 */
@Entity('inbound_messages')
@Index('UQ_inbound_messages_sender_event', ['connectorId', 'senderEventId'], {
  unique: true,
  where: '"sender_event_id" IS NOT NULL',
})
@Index('UQ_inbound_messages_sha256', ['connectorId', 'sha256'], { unique: true })
@Index('IDX_inbound_messages_status', ['status', 'receivedAt'])
@Index('IDX_inbound_messages_connector', ['connectorId', 'receivedAt'])
export class InboundMessage {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { name: 'connector_type', length: 64 })
  connectorType!: string;

  @Column('varchar', { name: 'sender_event_id', length: 256, nullable: true })
  senderEventId!: string | null;

  @Column('char', { length: 64 })
  sha256!: string;

  @Column('varchar', { name: 'content_type', length: 128, nullable: true })
  contentType!: string | null;

  @Column('integer', { name: 'size_bytes' })
  sizeBytes!: number;

  // Raw bytes are kept for replay, reprocessing and audit; payload retention is a later concern.
  @Column('bytea', { nullable: true })
  raw!: Buffer | null;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('varchar', { length: 16, default: 'received' })
  status!: MessageStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('jsonb', { default: EMPTY_JSON_ARRAY })
  errors!: MessageError[];

  @Column('timestamptz', { name: 'enqueued_at', nullable: true })
  enqueuedAt!: Date | null;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt!: Date | null;

  @Column('integer', { name: 'exception_count', default: 0 })
  exceptionCount!: number;

  @Column('jsonb', { name: 'document_types', default: EMPTY_JSON_ARRAY })
  documentTypes!: string[];

  @Column('boolean', { name: 'test_mode', default: false })
  testMode!: boolean;

  /** Facts the sender stated about the message (e.g. direction=outbound for a copy of what we sent). */
  @Column('jsonb', { default: EMPTY_JSON_OBJECT })
  meta!: Record<string, string>;
}
