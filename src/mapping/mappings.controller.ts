import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Req, Res, UnprocessableEntityException } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { ActiveArtifacts } from './active-artifacts.service.js';
import { answering, IdParam, MappingActivationBody, MappingScopeBody, VersionParam } from './artifact-http.js';
import { ArtifactRegistry, MappingVersionBody } from './artifact-registry.service.js';
import { evaluateDocument } from './fixture-check.js';

const DryRunBody = z.strictObject({
  /** The document as the connector hands it to the mapping (a webhook event, a canonical business document ...). */
  payload: z.unknown().refine((v) => v !== undefined, 'payload is required'),
  /** Defaults to payload.type. */
  documentType: z.string().min(1).max(64).optional(),
  connectorId: z.string().min(1).max(64).optional(),
});

/** Mapping versions: publish (immutable), list, activate per connector instance + document type, roll back, dry-run. */
@ApiTags('mappings')
@ApiBearerAuth()
@Controller('v1/mappings')
export class MappingsController {
  constructor(
    private readonly registry: ArtifactRegistry,
    private readonly active: ActiveArtifacts,
    private readonly instances: ConnectorInstances,
  ) {}

  @Get(':id/versions')
  @Allow(...ANY_ROLE)
  async versions(@Param('id', new ZodPipe(IdParam)) id: string) {
    return { items: await this.registry.versions('mapping', id) };
  }

  @Get(':id/versions/:version')
  @Allow(...ANY_ROLE)
  async version(@Param('id', new ZodPipe(IdParam)) id: string, @Param('version', new ZodPipe(VersionParam)) version: string) {
    const row = await this.registry.row('mapping', id, version);
    if (!row) throw new NotFoundException(`mapping ${id}@${version} is not published`);
    return { id, version, sha256: row.sha256, origin: row.origin, publishedBy: row.published_by, publishedAt: row.published_at, ...row.content };
  }

  /** 201 published; 200 when exactly this content is already published; 409 when the version exists with other content. */
  @Post(':id/versions')
  @Allow('integrator')
  async publish(
    @Param('id', new ZodPipe(IdParam)) id: string,
    @Body(new ZodPipe(MappingVersionBody)) body: MappingVersionBody,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const out = await answering(() => this.registry.publish('mapping', id, body as unknown as Record<string, unknown>, req.caller!.actor));
    res.status(out.created ? 201 : 200);
    return out;
  }

  @Get(':id/activations')
  @Allow(...ANY_ROLE)
  async activations(@Param('id', new ZodPipe(IdParam)) id: string) {
    return this.active.activations('mapping', id);
  }

  /** Makes a version the one in force for a connector instance and/or document type (omitted = any). */
  @Post(':id/activations')
  @HttpCode(200)
  @Allow('integrator')
  async activate(@Param('id', new ZodPipe(IdParam)) id: string, @Body(new ZodPipe(MappingActivationBody)) body: z.infer<typeof MappingActivationBody>, @Req() req: AuthedRequest) {
    await this.checkConnector(id, body.connectorId);
    return answering(() => this.active.activate('mapping', id, body.version, body, req.caller!.actor));
  }

  /** Puts back the version in force before the last activation of that scope. */
  @Post(':id/activations/rollback')
  @HttpCode(200)
  @Allow('integrator')
  async rollback(@Param('id', new ZodPipe(IdParam)) id: string, @Body(new ZodPipe(MappingScopeBody)) body: z.infer<typeof MappingScopeBody>, @Req() req: AuthedRequest) {
    return answering(() => this.active.rollback('mapping', id, body, req.caller!.actor));
  }

  /** Dry run: the output, the canonical exceptions and every validation problem for a sample document. Writes nothing. */
  @Post(':id/versions/:version/test')
  @HttpCode(200)
  @Allow('integrator')
  async test(@Param('id', new ZodPipe(IdParam)) id: string, @Param('version', new ZodPipe(VersionParam)) version: string, @Body(new ZodPipe(DryRunBody)) body: z.infer<typeof DryRunBody>) {
    const m = await this.registry.compiled('mapping', id, version);
    if (!m) throw new NotFoundException(`mapping ${id}@${version} is not published`);
    const documentType = body.documentType ?? String((body.payload as { type?: unknown } | null)?.type ?? '');
    if (!documentType) throw new UnprocessableEntityException('documentType is required when the payload has no "type"');
    const r = await evaluateDocument(m, body.payload, documentType, {
      connectorId: body.connectorId ?? 'dry-run',
      system: body.connectorId ?? 'dry-run',
      receivedAt: new Date(),
    });
    return { mapping: { id, version }, documentType, ok: r.problems.length === 0, output: r.output, exceptions: r.exceptions, problems: r.problems };
  }

  private async checkConnector(mappingId: string, connectorId?: string) {
    if (!connectorId) return;
    const instance = await this.instances.resolve(connectorId);
    if (!instance) throw new NotFoundException(`no connector instance ${connectorId}`);
    if (instance.config.mapping !== mappingId) {
      throw new UnprocessableEntityException(`connector instance ${connectorId} uses mapping "${instance.config.mapping}", not "${mappingId}"`);
    }
  }
}
