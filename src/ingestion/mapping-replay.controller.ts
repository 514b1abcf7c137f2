import { ConflictException, Controller, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdParam, VersionParam } from '../mapping/artifact-http.js';
import { MappingReplay } from './mapping-replay.service.js';

const DiffQuery = z
  .strictObject({
    /** ISO timestamp, or a number of days back (e.g. `7d`). Default: 7 days. */
    since: z.string().max(40).default('7d'),
    connectorId: z.string().min(1).max(64).optional(),
    maxMessages: z.coerce.number().int().min(1).max(5000).default(500),
    timeoutMs: z.coerce.number().int().min(100).max(60_000).default(20_000),
  })
  .transform((q, ctx) => {
    const days = q.since.match(/^(\d{1,3})d$/);
    const since = days ? new Date(Date.now() - Number(days[1]) * 86_400_000) : new Date(q.since);
    if (Number.isNaN(since.getTime())) {
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'an ISO timestamp or a number of days such as 7d' });
      return z.NEVER;
    }
    return { ...q, since };
  });

/** Regression diff of a candidate mapping version over stored messages, and reprocessing a message with the versions in force. */
@ApiTags('mappings')
@ApiBearerAuth()
@Controller('v1')
export class MappingReplayController {
  constructor(private readonly replay: MappingReplay) {}

  /**
   * Replays the candidate over the stored payloads received since `since` (newest first, at most
   * `maxMessages`, stopping after `timeoutMs`) and reports exceptions that would appear, disappear or
   * change code, severity or owner team. Writes nothing. `complete: false` + `stoppedBy` when a limit cut it short.
   */
  @Post('mappings/:id/versions/:version/diff')
  @HttpCode(200)
  @Allow('integrator')
  async diff(
    @Param('id', new ZodPipe(IdParam)) id: string,
    @Param('version', new ZodPipe(VersionParam)) version: string,
    @Query(new ZodPipe(DiffQuery)) q: z.infer<typeof DiffQuery>,
  ) {
    const out = await this.replay.diff(id, version, q);
    if (!out) throw new NotFoundException(`mapping ${id}@${version} is not published`);
    return out;
  }

  /** Re-runs a processed message with the mapping versions now in force; only changed results are recorded, linked to the earlier ones. */
  @Post('messages/:id/reprocess')
  @HttpCode(200)
  @Allow('integrator')
  async reprocess(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: AuthedRequest) {
    const out = await this.replay.reprocess(id, req.caller!.actor);
    if (out === 'not-found') throw new NotFoundException(`no message ${id}`);
    if (out === 'not-processed') throw new ConflictException(`message ${id} has not been processed (received or dead); use POST /v1/messages/${id}/replay for dead messages`);
    return out;
  }
}
