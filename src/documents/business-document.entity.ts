import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A canonical business document (purchase order, ship notice, invoice ...) as a connector read it.
 * Queryable by the references distributors correlate on: PO, shipment, depositor order, invoice.
 */
@Entity('business_documents')
@Index('UQ_business_documents_message_ordinal', ['messageId', 'ordinal'], { unique: true })
@Index('IDX_business_documents_po', ['poNumber', 'type'])
@Index('IDX_business_documents_shipment', ['shipmentId'])
@Index('IDX_business_documents_depositor', ['depositorOrder'])
@Index('IDX_business_documents_type_received', ['type', 'receivedAt'])
@Index('IDX_business_documents_partner_po', ['partner', 'poNumber'])
export class BusinessDocumentRecord {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('integer')
  ordinal!: number;

  @Column('varchar', { length: 64 })
  type!: string;

  @Column('varchar', { name: 'connector_id', length: 64 })
  connectorId!: string;

  @Column('varchar', { length: 128, nullable: true })
  partner!: string | null;

  @Column('varchar', { name: 'po_number', length: 128, nullable: true })
  poNumber!: string | null;

  @Column('varchar', { name: 'shipment_id', length: 128, nullable: true })
  shipmentId!: string | null;

  @Column('varchar', { name: 'depositor_order', length: 128, nullable: true })
  depositorOrder!: string | null;

  @Column('varchar', { name: 'invoice_number', length: 128, nullable: true })
  invoiceNumber!: string | null;

  @Column('boolean', { name: 'test_mode', default: false })
  testMode!: boolean;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('varchar', { name: 'mapping_id', length: 128, nullable: true })
  mappingId!: string | null;

  @Column('jsonb')
  payload!: Record<string, unknown>;
}
