import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { ConnectorInstances, InstanceDeclaration, InstanceInvalid, describe } from './connector-instances.service.js';

@ApiTags('connectors')
@ApiBearerAuth()
@Controller('v1')
export class ConnectorsController {
  constructor(private readonly instances: ConnectorInstances) {}

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

  /** Tries the connection of a polling connector (e.g. SFTP: connect, check the host key, list the inbox); changes nothing. */
  @Post('connectors/:id/test')
  @HttpCode(200)
  @Allow('integrator')
  async test(@Param('id') id: string) {
    const instance = await this.instances.resolve(id);
    if (!instance) throw new NotFoundException(`no connector ${id}`);
    const connector = this.instances.connectorFor(instance.type);
    if (!connector.probe) throw new BadRequestException(`connector ${id} (${instance.type}) has no connection to test`);
    const signal = AbortSignal.timeout(30_000);
    try {
      return { id, ...(await connector.probe(instance, signal)) };
    } catch (e) {
      return { id, ok: false, message: (e as Error).message };
    }
  }

  /** Health of one connector from what it delivered: last message, outcomes over 24 h, last error. */
  @Get('connectors/:id/status')
  @Allow(...ANY_ROLE)
  async status(@Param('id') id: string) {
    const row = await this.instances.get(id);
    if (!row) throw new NotFoundException(`no connector ${id}`);
    return this.instances.status(row);
  }
}
