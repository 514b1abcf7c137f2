import { Controller, Get, NotFoundException, ConflictException, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { Ingestion } from './ingestion.service.js';
import { MESSAGE_STATUSES } from './inbound-message.entity.js';
import { MessageLedger } from './message-ledger.service.js';

const ListQuery = z.strictObject({
  status: z.enum(MESSAGE_STATUSES).optional(),
  connectorId: z.string().max(64).optional(),
  after: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

@ApiTags('messages')
@ApiBearerAuth()
@Controller('v1/messages')
export class MessagesController {
  constructor(
    private readonly ledger: MessageLedger,
    private readonly ingestion: Ingestion,
  ) {}

  /** Messages by status; `status=dead` is the dead-letter list. */
  @Get()
  @Allow(...ANY_ROLE)
  async list(@Query(new ZodPipe(ListQuery)) q: z.infer<typeof ListQuery>) {
    const items = await this.ledger.list(q);
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }

  @Get(':id')
  @Allow(...ANY_ROLE)
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    const msg = await this.ledger.get(id);
    if (!msg) throw new NotFoundException(`no message ${id}`);
    return msg;
  }

  /** Acknowledgments the hub produced for this message (TA1, 997, 999), with their content. */
  @Get(':id/acks')
  @Allow(...ANY_ROLE)
  async acks(@Param('id', new ParseUUIDPipe()) id: string) {
    if (!(await this.ledger.get(id))) throw new NotFoundException(`no message ${id}`);
    return { items: await this.ledger.acks(id) };
  }

  /** The stored raw bytes, exactly as received. */
  @Get(':id/raw')
  @Allow('integrator')
  async raw(@Param('id', new ParseUUIDPipe()) id: string) {
    const raw = await this.ledger.raw(id);
    if (!raw) throw new NotFoundException(`no message ${id}`);
    return { contentType: raw.contentType, base64: raw.raw?.toString('base64') ?? null, sizeBytes: raw.sizeBytes };
  }

  /** Runs a failed or dead message through the pipeline again. */
  @Post(':id/replay')
  @Allow('integrator')
  async replay(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: AuthedRequest) {
    const out = await this.ingestion.replay(id, req.caller!.actor);
    if (out === 'not-found') throw new NotFoundException(`no message ${id}`);
    if (out === 'not-replayable') throw new ConflictException(`message ${id} is not failed or dead; only those can be replayed`);
    return { messageId: id, status: 'received', note: 'queued for the pipeline again' };
  }
}
