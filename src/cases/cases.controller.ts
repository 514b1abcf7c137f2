import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ROOT_CAUSE_CODES, SEVERITIES } from '../canonical/taxonomy.js';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { CASE_STATUSES } from './case.entity.js';
import { CaseDesk } from './case-desk.service.js';
import { CaseNarrative } from './case-narrative.service.js';

const ListQuery = z.strictObject({
  status: z.enum(CASE_STATUSES).optional(),
  team: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  site: z.string().max(64).optional(),
  businessUnit: z.string().max(64).optional(),
  correlationKey: z.string().max(256).optional(),
  after: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const Assign = z
  .strictObject({ assignee: z.string().trim().min(1).max(128).nullable().optional(), team: z.string().trim().min(1).max(64).optional() })
  .refine((b) => b.assignee !== undefined || b.team !== undefined, 'give an assignee, a team, or both');
const Comment = z.strictObject({ text: z.string().trim().min(1).max(4000) });
const Resolve = z.strictObject({ rootCause: z.enum(ROOT_CAUSE_CODES), note: z.string().trim().max(4000).optional() });
const Pause = z.strictObject({ waitingOn: z.enum(['customer', 'supplier', 'carrier', 'internal']), note: z.string().trim().max(4000).optional() });
const Resume = z.strictObject({ note: z.string().trim().max(4000).optional() });
const CompleteTask = z.strictObject({ note: z.string().trim().max(4000).optional(), rootCause: z.enum(ROOT_CAUSE_CODES).optional() });

@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly desk: CaseDesk,
    private readonly narrative: CaseNarrative,
  ) {}

  @Get()
  @Allow(...ANY_ROLE)
  list(@Query(new ZodPipe(ListQuery)) q: z.infer<typeof ListQuery>) {
    return this.desk.list(q);
  }

  @Get(':id')
  @Allow(...ANY_ROLE)
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.desk.get(id);
  }

  /** The case in plain sentences (timeline from its exceptions and audit trail) and the risk that its SLA clocks breach, from SLA history. */
  @Get(':id/summary')
  @Allow(...ANY_ROLE)
  summary(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.narrative.summary(id);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Allow('operator')
  acknowledge(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: AuthedRequest) {
    return this.desk.acknowledge(id, req.caller!.actor);
  }

  @Post(':id/assign')
  @HttpCode(200)
  @Allow('operator')
  assign(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Assign)) b: z.infer<typeof Assign>, @Req() req: AuthedRequest) {
    return this.desk.assign(id, req.caller!.actor, { assignee: b.assignee, team: b.team });
  }

  @Post(':id/comment')
  @HttpCode(200)
  @Allow('operator')
  comment(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Comment)) b: z.infer<typeof Comment>, @Req() req: AuthedRequest) {
    return this.desk.comment(id, req.caller!.actor, b.text);
  }

  /** Resolving requires a root cause from GET /v1/schema/root-causes. */
  @Post(':id/resolve')
  @HttpCode(200)
  @Allow('operator')
  resolve(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Resolve)) b: z.infer<typeof Resolve>, @Req() req: AuthedRequest) {
    return this.desk.resolve(id, req.caller!.actor, b.rootCause, b.note);
  }

  /** Waiting on a customer or supplier: the case's SLA clocks stop counting (GET /v1/cases/{id}/slas). */
  @Post(':id/pause')
  @HttpCode(200)
  @Allow('operator')
  pause(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Pause)) b: z.infer<typeof Pause>, @Req() req: AuthedRequest) {
    return this.desk.pause(id, req.caller!.actor, b.waitingOn, b.note);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Allow('operator')
  resume(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(Resume)) b: z.infer<typeof Resume>, @Req() req: AuthedRequest) {
    return this.desk.resume(id, req.caller!.actor, b?.note);
  }

  /** Completing the last open required task resolves the case (with `rootCause` when given). */
  @Post(':id/tasks/:taskId/complete')
  @HttpCode(200)
  @Allow('operator')
  completeTask(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('taskId', new ParseUUIDPipe()) taskId: string,
    @Body(new ZodPipe(CompleteTask)) b: z.infer<typeof CompleteTask>,
    @Req() req: AuthedRequest,
  ) {
    return this.desk.completeTask(id, taskId, req.caller!.actor, b ?? {});
  }
}
