import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { AuditChain } from './audit-chain.service.js';
import { streamAudit } from './audit-export.js';
import { AuditTrail } from './audit-trail.service.js';

const Filters = {
  entityType: z.string().max(32).optional(),
  entityId: z.string().max(128).optional(),
  actorId: z.string().max(128).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
};
const Query_ = z.strictObject({
  ...Filters,
  after: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const ExportQuery = z.strictObject({ ...Filters, format: z.enum(['csv', 'jsonl']).default('jsonl') });

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditTrail,
    private readonly chain: AuditChain,
  ) {}

  /** The audit trail by entity, actor and time range, oldest first; `after` is the last id seen. */
  @Get()
  @Allow('integrator', 'operator', 'viewer')
  async list(@Query(new ZodPipe(Query_)) q: z.infer<typeof Query_>) {
    const items = await this.audit.query({ ...q, afterId: q.after });
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }

  /** Checks the hash chain from the first event; reports the first broken link, if any. */
  @Get('verify')
  @Allow('integrator')
  verify() {
    return this.chain.verify();
  }

  /** The audit trail (same filters) streamed as CSV or JSON lines. */
  @Get('export')
  @Allow('integrator')
  async export(@Query(new ZodPipe(ExportQuery)) q: z.infer<typeof ExportQuery>, @Res() reply: FastifyReply) {
    const { format, ...filters } = q;
    reply.hijack();
    await streamAudit(reply.raw, this.audit, filters, format);
  }
}
