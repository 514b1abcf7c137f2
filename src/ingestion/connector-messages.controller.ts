import { Controller, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { Ingestion } from './ingestion.service.js';
import { MessageLedger } from './message-ledger.service.js';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

const Options = z.strictObject({
  /** Seconds to wait for the pipeline, so the answer can carry the acknowledgments (0 = answer at once). */
  wait: z.coerce.number().min(0).max(30).default(0),
  /** The sender's own id for this file or message, for duplicate detection. */
  eventId: z.string().min(1).max(256).optional(),
  /** outbound: a copy of what we (or the ERP) sent the partner, kept so their acknowledgments can be reconciled. */
  direction: z.enum(['inbound', 'outbound']).default('inbound'),
});

const DONE = new Set(['parsed', 'mapped', 'routed', 'failed', 'dead']);

/**
 * File-style ingestion for connectors that take whole messages (X12 interchanges from a gateway or
 * VAN): raw body, API key with the integrator role, limit HUB_MAX_FILE_BYTES. Answers 202 with the
 * message id, 200 for a duplicate; with `?wait=N` it waits for the pipeline and returns the acks.
 */
@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('v1/connectors')
export class ConnectorMessagesController {
  constructor(
    private readonly ingestion: Ingestion,
    private readonly ledger: MessageLedger,
  ) {}

  @Post(':connectorId/messages')
  @HttpCode(202)
  @Allow('integrator')
  @ApiOperation({ summary: 'Post a raw message (e.g. an X12 interchange) to a connector' })
  async post(
    @Param('connectorId') connectorId: string,
    @Query(new ZodPipe(Options)) opts: z.infer<typeof Options>,
    @Req() req: RawRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const out = await this.ingestion.accept(
      connectorId,
      { body: req.rawBody ?? Buffer.alloc(0), headers: req.headers, contentType: req.headers['content-type'], now: new Date() },
      { viaApi: true, eventId: opts.eventId, meta: { direction: opts.direction } },
    );
    if (out.duplicate) reply.status(200);
    if (out.malformed) {
      reply.status(400);
      return { statusCode: 400, error: 'Bad Request', message: out.malformed.reason, position: out.malformed.position, messageId: out.messageId };
    }
    let status = out.duplicate ? 'duplicate' : 'accepted';
    if (opts.wait > 0 && !out.duplicate) {
      const until = Date.now() + opts.wait * 1000;
      for (;;) {
        const m = await this.ledger.get(out.messageId);
        if (m && DONE.has(m.status)) {
          status = m.status;
          break;
        }
        if (Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const acks = opts.wait > 0 ? await this.ledger.acks(out.messageId) : [];
    return {
      messageId: out.messageId,
      status,
      ...(opts.wait > 0 ? { acks: acks.map((a) => ({ kind: a.kind, partner: a.partner, controlNumber: a.controlNumber, content: a.content })) } : {}),
    };
  }
}
