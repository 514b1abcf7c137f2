import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ExceptionRecord } from '../cases/exception.entity.js';
import { InboundMessage, type MessageStatus } from './inbound-message.entity.js';
import { OutboundDocumentRecord } from './outbound-document.entity.js';

/** Read side of inbound messages: status, errors and what each message produced. */
@Injectable()
export class MessageLedger {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(q: { status?: MessageStatus; connectorId?: string; after?: string; limit: number }) {
    const qb = this.ds
      .getRepository(InboundMessage)
      .createQueryBuilder('m')
      .select(['m.id', 'm.connectorId', 'm.senderEventId', 'm.status', 'm.receivedAt', 'm.processedAt', 'm.attempts', 'm.exceptionCount', 'm.sizeBytes', 'm.errors'])
      .orderBy('m.id', 'DESC')
      .limit(q.limit);
    if (q.status) qb.andWhere('m.status = :status', { status: q.status });
    if (q.connectorId) qb.andWhere('m.connectorId = :cid', { cid: q.connectorId });
    if (q.after) qb.andWhere('m.id < :after', { after: q.after });
    return qb.getMany();
  }

  async get(id: string) {
    const msg = await this.ds.getRepository(InboundMessage).findOne({
      where: { id },
      select: { id: true, connectorId: true, connectorType: true, senderEventId: true, sha256: true, contentType: true, sizeBytes: true, receivedAt: true, status: true, attempts: true, errors: true, processedAt: true, exceptionCount: true, documentTypes: true, testMode: true },
    });
    if (!msg) return null;
    const exceptions = await this.ds.getRepository(ExceptionRecord).find({
      where: { messageId: id },
      select: { id: true, ordinal: true, code: true, severity: true, title: true, caseId: true, mappingId: true, mappingVersion: true, supersedes: true, supersededAt: true },
      order: { ordinal: 'ASC' },
    });
    return { ...msg, exceptions };
  }

  /** Acknowledgments (TA1, 997, 999) the hub produced for a message. */
  acks(messageId: string) {
    return this.ds.getRepository(OutboundDocumentRecord).find({ where: { messageId }, order: { createdAt: 'ASC' } });
  }

  raw(id: string) {
    return this.ds.getRepository(InboundMessage).findOne({ where: { id }, select: { id: true, raw: true, contentType: true, sizeBytes: true } });
  }
}
