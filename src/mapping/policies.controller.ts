import { ZodPipe } from '../http/zod.pipe.js';
import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ActiveArtifacts } from './active-artifacts.service.js';
import { answering, IdParam, PolicyActivationBody, VersionParam } from './artifact-http.js';
import { ArtifactRegistry } from './artifact-registry.service.js';

/** Routing policy versions, stored like mappings: publish (immutable, checked with RoutingPolicySchema), list, activate, roll back. */
@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class PoliciesController {
  constructor(
    private readonly registry: ArtifactRegistry,
    private readonly active: ActiveArtifacts,
  ) {}

  @Get(':id/versions')
  @Allow(...ANY_ROLE)
  async versions(@Param('id', new ZodPipe(IdParam)) id: string) {
    return { items: await this.registry.versions('policy', id) };
  }

  @Get(':id/versions/:version')
  @Allow(...ANY_ROLE)
  async version(@Param('id', new ZodPipe(IdParam)) id: string, @Param('version', new ZodPipe(VersionParam)) version: string) {
    const row = await this.registry.row('policy', id, version);
    if (!row) throw new NotFoundException(`policy ${id}@${version} is not published`);
    return { sha256: row.sha256, origin: row.origin, publishedBy: row.published_by, publishedAt: row.published_at, policy: row.content };
  }

  /** Body: the policy document (as in policies/<id>/<version>/policy.json). 201 / 200 same content / 409 other content / 422 invalid. */
  @Post(':id/versions')
  @Allow('integrator')
  async publish(
    @Param('id', new ZodPipe(IdParam)) id: string,
    @Body(new ZodPipe(z.record(z.string(), z.unknown()))) body: Record<string, unknown>,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const out = await answering(() => this.active.publishPolicy(id, body, req.caller!.actor));
    res.status(out.created ? 201 : 200);
    return out;
  }

  @Get(':id/activations')
  @Allow(...ANY_ROLE)
  async activations(@Param('id', new ZodPipe(IdParam)) id: string) {
    return this.active.activations('policy', id);
  }

  @Post(':id/activations')
  @HttpCode(200)
  @Allow('integrator')
  async activate(@Param('id', new ZodPipe(IdParam)) id: string, @Body(new ZodPipe(PolicyActivationBody)) body: z.infer<typeof PolicyActivationBody>, @Req() req: AuthedRequest) {
    return answering(() => this.active.activate('policy', id, body.version, {}, req.caller!.actor));
  }

  @Post(':id/activations/rollback')
  @HttpCode(200)
  @Allow('integrator')
  async rollback(@Param('id', new ZodPipe(IdParam)) id: string, @Req() req: AuthedRequest) {
    return answering(() => this.active.rollback('policy', id, {}, req.caller!.actor));
  }
}
