import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { AuditTrail } from './audit-trail.service.js';

const Query_ = z.strictObject({
  entityType: z.string().max(32).optional(),
  entityId: z.string().max(128).optional(),
  actorId: z.string().max(128).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  after: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditTrail) {}

  /** The audit trail by entity, actor and time range, oldest first; `after` is the last id seen. */
  @Get()
  @Allow('integrator', 'operator', 'viewer')
  async list(@Query(new ZodPipe(Query_)) q: z.infer<typeof Query_>) {
    const items = await this.audit.query({ ...q, afterId: q.after });
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }
}
