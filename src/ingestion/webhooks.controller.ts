import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/roles.decorator.js';
import { Ingestion } from './ingestion.service.js';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

/**
 * Push ingestion for webhook connectors. Authenticated by the connector (signature), not by API key.
 * 202 accepted; 200 duplicate (original message id); 400 malformed body (stored, with position);
 * 401 bad signature; 403 connector disabled; 404 unknown connector; 413 body over HUB_MAX_BODY_BYTES.
 */
@ApiTags('ingestion')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly ingestion: Ingestion) {}

  @Public()
  @Post(':connectorId')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver a signed webhook event (Standard Webhooks headers)' })
  async deliver(@Param('connectorId') connectorId: string, @Req() req: RawRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const out = await this.ingestion.accept(connectorId, {
      body: req.rawBody ?? Buffer.alloc(0),
      headers: req.headers,
      contentType: req.headers['content-type'],
      now: new Date(),
    });
    if (out.duplicate) {
      reply.status(200);
      return { messageId: out.messageId, status: 'duplicate', note: 'already received; not processed again' };
    }
    if (out.malformed) {
      reply.status(400);
      return {
        statusCode: 400,
        error: 'Bad Request',
        message: out.malformed.reason,
        position: out.malformed.position,
        messageId: out.messageId,
        note: 'the raw body was stored and an INTEGRATION.MALFORMED_PAYLOAD exception raised',
      };
    }
    return { messageId: out.messageId, status: 'accepted' };
  }
}
