import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { DeliveryLedger } from './delivery-ledger.service.js';
import { DeliveryQueue } from './delivery.worker.js';
import { EVENT_TYPES } from './outbox-event.entity.js';

const ListQuery = z.strictObject({
  subscriptionId: z.uuid().optional(),
  status: z.enum(['pending', 'delivered', 'dead']).optional(),
  eventType: z.enum(EVENT_TYPES).optional(),
  caseId: z.uuid().optional(),
  after: z.string().regex(/^\d+$/, 'must be the nextCursor of an earlier page').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@ApiTags('deliveries')
@ApiBearerAuth()
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly queue: DeliveryQueue,
  ) {}

  /** Deliveries (one per event and subscription), oldest first; `status=dead` is the dead-letter list. */
  @Get()
  @Allow('integrator', 'operator', 'viewer')
  list(@Query(new ZodPipe(ListQuery)) q: z.infer<typeof ListQuery>) {
    return this.ledger.list(q);
  }

  /** Every attempt of a delivery: status code, latency, response excerpt, automatic or manual. */
  @Get(':id/attempts')
  @Allow('integrator', 'operator', 'viewer')
  async attempts(@Param('id', new ParseUUIDPipe()) id: string) {
    return { items: await this.ledger.attempts(id) };
  }

  /** Sends a dead delivery again, once, with the same webhook-id. */
  @Post(':id/replay')
  @Allow('integrator')
  async replay(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: AuthedRequest) {
    const rows = await this.ledger.replay({ id }, req.caller!.actor);
    if (!rows.length) throw new NotFoundException(`no dead delivery ${id}`);
    await this.queue.add(rows).catch(() => undefined); // pending in the table: the sweeper queues it if Redis is down
    return { replayed: 1, deliveryId: id };
  }
}
