import { Controller, Get, Headers, Inject, type OnModuleDestroy, Query, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { EventFeed } from './event-feed.service.js';
import { EVENT_TYPES } from './outbox-event.entity.js';

const csv = (max: number) =>
  z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string().max(max)).max(100))
    .optional();
const Filters = {
  types: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.enum(EVENT_TYPES)))
    .optional(),
  // Like a subscription's filters: each a comma-separated list, any value matches.
  team: csv(64),
  code: csv(64),
  severity: csv(16),
  site: csv(64),
  businessUnit: csv(64),
};
const Cursor = z.string().regex(/^\d+-\d+$/, 'must be the nextCursor of an earlier page (or an SSE event id)');
const StreamQuery = z.strictObject({ after: Cursor.optional(), ...Filters });

const FeedQuery = z.strictObject({
  after: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  ...Filters,
});

@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsController implements OnModuleDestroy {
  /** Open streams, ended at shutdown: the HTTP server would otherwise wait for them forever. */
  private readonly streams = new Set<ServerResponse>();

  constructor(
    private readonly feed: EventFeed,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
  ) {}

  /** Ordered, resumable event feed (case.opened, case.updated, case.resolved, exception.created, message.failed). Keep `nextCursor` and pass it as `after`. */
  @Get()
  @Allow(...ANY_ROLE)
  list(@Query(new ZodPipe(FeedQuery)) q: z.infer<typeof FeedQuery>) {
    return this.feed.read(q);
  }

  /**
   * Server-Sent Events: the same ordered feed, live. Each event's `id` is its cursor; reconnect with
   * `Last-Event-ID` (or `?after=`) to resume. Catch-up and live tail are one loop over the feed's
   * commit-safe read, so no event falls between them. Comment lines keep idle connections open.
   */
  @Get('stream')
  @Allow(...ANY_ROLE)
  async stream(
    @Query(new ZodPipe(StreamQuery)) q: z.infer<typeof StreamQuery>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const resume = lastEventId && /^\d+-\d+$/.test(lastEventId) ? lastEventId : q.after;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    let open = true;
    this.streams.add(res);
    res.on('close', () => {
      open = false;
      this.streams.delete(res);
    });
    let cursor = resume;
    let lastWrite = Date.now();
    while (open) {
      try {
        const page = await this.feed.read({ ...q, after: cursor, limit: 500 });
        for (const e of page.items) {
          const id = `${e.tx}-${e.id}`;
          const ok = res.write(`id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify({ id: e.id, type: e.type, occurredAt: e.occurredAt, caseId: e.caseId, payload: e.payload })}\n\n`);
          if (!ok) await new Promise((r) => res.once('drain', r));
        }
        cursor = page.nextCursor ?? cursor;
        if (page.items.length) lastWrite = Date.now();
        if (page.items.length === 500) continue;
      } catch {
        // A failed read (database restart) is retried on the next tick; the cursor has not moved.
      }
      if (Date.now() - lastWrite >= this.cfg.delivery.sseKeepAliveMs) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  onModuleDestroy() {
    for (const res of this.streams) res.end();
  }
}
