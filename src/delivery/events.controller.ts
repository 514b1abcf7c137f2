import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { EventFeed } from './event-feed.service.js';
import { EVENT_TYPES } from './outbox-event.entity.js';

const FeedQuery = z.strictObject({
  after: z.string().regex(/^\d+-\d+$/, 'must be the nextCursor of an earlier page').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  types: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.enum(EVENT_TYPES)))
    .optional(),
  team: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
  severity: z.string().max(16).optional(),
  site: z.string().max(64).optional(),
  businessUnit: z.string().max(64).optional(),
});

@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsController {
  constructor(private readonly feed: EventFeed) {}

  /** Ordered, resumable event feed (case.opened, case.updated, case.resolved, exception.created, message.failed). Keep `nextCursor` and pass it as `after`. */
  @Get()
  @Allow(...ANY_ROLE)
  list(@Query(new ZodPipe(FeedQuery)) q: z.infer<typeof FeedQuery>) {
    return this.feed.read(q);
  }
}
