import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodPipe } from '../http/zod.pipe.js';
import { ROLES } from './api-key.entity.js';
import type { AuthedRequest } from './api-key.guard.js';
import { ApiKeys } from './api-keys.service.js';

const CreateKey = z.strictObject({ name: z.string().trim().min(1).max(128), role: z.enum(ROLES) });

/** API key administration (admin only). */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeys) {}

  @Post()
  async create(@Body(new ZodPipe(CreateKey)) body: z.infer<typeof CreateKey>, @Req() req: AuthedRequest) {
    const { key, record } = await this.keys.create(body.name, body.role, req.caller!.actor);
    return { id: record.id, name: record.name, role: record.role, prefix: record.prefix, key, note: 'store the key now: it is not shown again' };
  }

  @Get()
  async list() {
    const keys = await this.keys.list();
    return { items: keys.map(({ keyHash: _h, ...k }) => k) };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @Req() req: AuthedRequest) {
    if (!(await this.keys.revoke(id, req.caller!.actor))) throw new NotFoundException(`no active API key ${id}`);
  }
}
