import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { InboundRefusal } from '../connectors/connector.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 500: 'Internal Server Error',
};

/** One JSON error shape for every failure: { statusCode, error, message, ... }. Internals are logged, not returned. */
@Catch()
export class HubErrorFilter implements ExceptionFilter {
  constructor(
    private readonly log: Logger,
    private readonly limits: { body: number; file: number; fileRoutes: RegExp },
  ) {}

  catch(err: unknown, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const url = host.switchToHttp().getRequest<{ url: string }>().url ?? '';
    const status = err instanceof HttpException ? err.getStatus() : (err as { statusCode?: number })?.statusCode;
    // Fastify refuses the body while reading it; say which limit applied and how to change it.
    if (status === 413) {
      const file = this.limits.fileRoutes.test(url);
      const message = `body is over the limit of ${file ? this.limits.file : this.limits.body} bytes (${file ? 'HUB_MAX_FILE_BYTES' : 'HUB_MAX_BODY_BYTES'})`;
      return reply.status(413).send({ statusCode: 413, error: REASONS[413], message });
    }
    if (err instanceof InboundRefusal) {
      return reply.status(err.status).send({ statusCode: err.status, error: REASONS[err.status], message: err.message });
    }
    if (err instanceof HttpException) {
      const body = err.getResponse();
      const status = err.getStatus();
      return reply
        .status(status)
        .send(typeof body === 'string' ? { statusCode: status, error: REASONS[status] ?? 'Error', message: body } : body);
    }
    const e = err as { statusCode?: number; message?: string; code?: string };
    // Fastify's own client errors (body too large, bad content) carry a 4xx statusCode.
    if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ statusCode: e.statusCode, error: REASONS[e.statusCode] ?? 'Error', message: e.message, code: e.code });
    }
    this.log.error({ err: e?.message, stack: (err as Error)?.stack }, 'unhandled error');
    return reply.status(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the hub log' });
  }
}
