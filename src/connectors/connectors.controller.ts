import { BadRequestException, Body, Controller, Get, NotFoundException, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { ConnectorInstances, InstanceDeclaration, InstanceInvalid, describe } from './connector-instances.service.js';

@ApiTags('connectors')
@ApiBearerAuth()
@Controller('v1')
export class ConnectorsController {
  constructor(
    private readonly instances: ConnectorInstances,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  @Get('connector-types')
  @Allow(...ANY_ROLE)
  types() {
    return { items: this.instances.typeNames() };
  }

  /** Creates or replaces a connector instance. Secrets are sealed with HUB_MASTER_KEY and never returned. */
  @Post('connectors')
  @Allow('integrator')
  async create(@Body(new ZodPipe(InstanceDeclaration)) body: InstanceDeclaration, @Req() req: AuthedRequest) {
    try {
      return describe(await this.instances.upsert(body, 'api', req.caller!.actor));
    } catch (e) {
      if (e instanceof InstanceInvalid) throw new BadRequestException(e.message);
      throw e;
    }
  }

  @Get('connectors')
  @Allow(...ANY_ROLE)
  async list() {
    return { items: (await this.instances.list()).map(describe) };
  }

  @Get('connectors/:id')
  @Allow(...ANY_ROLE)
  async get(@Param('id') id: string) {
    const row = await this.instances.get(id);
    if (!row) throw new NotFoundException(`no connector ${id}`);
    return describe(row);
  }

  /** Health of one connector from what it delivered: last message, outcomes over 24 h, last error. */
  @Get('connectors/:id/status')
  @Allow(...ANY_ROLE)
  async status(@Param('id') id: string) {
    const row = await this.instances.get(id);
    if (!row) throw new NotFoundException(`no connector ${id}`);
    const [counts, last, lastError] = await Promise.all([
      this.ds.query(
        `SELECT status, count(*)::int AS n FROM inbound_messages WHERE connector_id = $1 AND received_at > now() - interval '24 hours' GROUP BY status`,
        [id],
      ),
      this.ds.query(`SELECT max(received_at) AS received, max(processed_at) AS processed FROM inbound_messages WHERE connector_id = $1`, [id]),
      this.ds.query(
        `SELECT id, status, errors -> -1 AS error FROM inbound_messages WHERE connector_id = $1 AND status IN ('failed', 'dead') ORDER BY received_at DESC LIMIT 1`,
        [id],
      ),
    ]);
    const last24h = Object.fromEntries((counts as { status: string; n: number }[]).map((c) => [c.status, c.n]));
    const unhealthy = (last24h.dead ?? 0) > 0 || (last24h.failed ?? 0) > 0;
    return {
      id,
      type: row.type,
      enabled: row.enabled,
      health: !row.enabled ? 'disabled' : unhealthy ? 'degraded' : 'ok',
      lastMessageAt: last[0]?.received ?? null,
      lastProcessedAt: last[0]?.processed ?? null,
      last24h,
      lastError: lastError[0] ? { messageId: lastError[0].id, status: lastError[0].status, ...lastError[0].error } : null,
    };
  }
}
