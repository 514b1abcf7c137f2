import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { REFERENCE_KEYS } from '../canonical/exception.schema.js';
import { EXCEPTION_CODES, SEVERITIES } from '../canonical/taxonomy.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { TRIAGE_STATUSES } from './triage-item.entity.js';
import { TriageDesk } from './triage-desk.service.js';

const Intake = z.strictObject({
  text: z.string().trim().min(10).max(4000),
  channel: z.enum(['customer-complaint', 'carrier-note', 'email', 'phone', 'other']),
  references: z.partialRecord(z.enum(REFERENCE_KEYS), z.string().trim().min(1).max(128)).default({}),
  site: z.string().min(1).max(64).optional(),
  businessUnit: z.string().min(1).max(64).optional(),
  customerTier: z.string().min(1).max(32).optional(),
});
const Queue = z.strictObject({ status: z.enum(TRIAGE_STATUSES).default('pending'), limit: z.coerce.number().int().min(1).max(500).default(100) });
const Decide = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('accept') }),
  z.strictObject({ action: z.literal('correct'), code: z.enum(EXCEPTION_CODES), severity: z.enum(SEVERITIES) }),
  z.strictObject({ action: z.literal('reject'), note: z.string().trim().min(1).max(2000) }),
]);

@ApiTags('triage')
@ApiBearerAuth()
@Controller('v1')
export class TriageController {
  constructor(private readonly desk: TriageDesk) {}

  /** Free text in; a suggested code and severity with confidence out. Confident suggestions are routed, the rest wait for review. */
  @Post('intake/text')
  @HttpCode(201)
  @Allow('operator')
  submit(@Body(new ZodPipe(Intake)) b: z.infer<typeof Intake>, @Req() req: AuthedRequest) {
    return this.desk.submit({ ...b, references: b.references as Record<string, string> }, req.caller!.actor);
  }

  @Get('triage/review')
  @Allow(...ANY_ROLE)
  queue(@Query(new ZodPipe(Queue)) q: z.infer<typeof Queue>) {
    return this.desk.queue(q.status, q.limit);
  }

  @Post('triage/review/:id/decide')
  @HttpCode(200)
  @Allow('operator')
  decide(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Decide)) b: z.infer<typeof Decide>, @Req() req: AuthedRequest) {
    return this.desk.decide(id, b, req.caller!.actor);
  }
}
