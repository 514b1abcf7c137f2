import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Something the hub sends back to a partner because of an inbound message: TA1, 997, 999. */
@Entity('outbound_documents')
@Index('IDX_outbound_documents_message', ['messageId'])
@Index('IDX_outbound_documents_partner', ['connectorId', 'partner', 'createdAt'])
export class OutboundDocumentRecord {
  @PrimaryColumn('uuid')
  id!: string;

  /** The inbound message this answers. */
  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { length: 128 })
  partner!: string;

  @Column('varchar', { length: 8 })
  kind!: string;

  @Column('varchar', { name: 'control_number', length: 32 })
  controlNumber!: string;

  @Column('varchar', { name: 'content_type', length: 128 })
  contentType!: string;

  @Column('text')
  content!: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  /** When the connector's outbound channel delivered it (SFTP outbox, HTTP); null while pending. */
  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;
}
