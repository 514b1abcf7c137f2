import { Controller, Get, type OnModuleDestroy, Param, Query, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { csvStream } from './csv.js';
import { ExceptionExport } from './exception-export.js';
import { ReportQuery, type ReportFilters } from './report-filters.js';
import { ReportStream } from './report-stream.js';
import { Reports } from './reports.service.js';

const wantsCsv = (req: FastifyRequest, f: ReportFilters) =>
  f.format === 'csv' || (f.format === undefined && /\btext\/csv\b/i.test(String(req.headers.accept ?? '')));

/** Reports over the rollups (docs/reporting.md). Viewer and up; JSON, or CSV with ?format=csv or Accept: text/csv. */
@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController implements OnModuleDestroy {
  /** Open dashboard streams, ended at shutdown: the HTTP server would otherwise wait for them forever. */
  private readonly streams = new Set<ServerResponse>();

  constructor(
    private readonly reports: Reports,
    private readonly exportRows: ExceptionExport,
    private readonly stream: ReportStream,
  ) {}

  @Get()
  @Allow(...ANY_ROLE)
  list() {
    return { reports: [...Reports.NAMES], exports: ['export/exceptions'], stream: 'stream' };
  }

  /** Server-sent events: `changed` whenever cases or exceptions commit (polled from the outbox). */
  @Get('stream')
  @Allow(...ANY_ROLE)
  async events(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    reply.hijack();
    const raw = reply.raw;
    const off = await this.stream.subscribe((c) => raw.write(`event: changed\ndata: ${JSON.stringify(c)}\n\n`));
    if (req.raw.destroyed) return off(); // the client left while the cursor was placed
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    raw.write(`retry: 2000\n: connected\n\n`);
    const ping = setInterval(() => raw.write(`: ping\n\n`), 15000);
    this.streams.add(raw);
    req.raw.on('close', () => {
      clearInterval(ping);
      off();
      this.streams.delete(raw);
    });
  }

  /** The raw exceptions of a range as CSV, streamed page by page. */
  @Get('export/exceptions')
  @Allow(...ANY_ROLE)
  exportExceptions(@Query(new ZodPipe(ReportQuery)) f: ReportFilters, @Res() reply: FastifyReply) {
    const rows = this.exportRows.rows(f);
    // Validate filters before the header goes out: the first page throws a 400 here, not mid-stream.
    return rows.next().then((first) => {
      async function* all() {
        if (!first.done) yield first.value;
        yield* rows;
      }
      reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="exceptions.csv"');
      return reply.send(csvStream(all(), first.done ? ['id'] : undefined));
    });
  }

  @Get(':name')
  @Allow(...ANY_ROLE)
  async report(@Param('name') name: string, @Query(new ZodPipe(ReportQuery)) f: ReportFilters, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const result = await this.reports.run(name, f);
    if (!wantsCsv(req, f)) return reply.send(result);
    const rows = result.rows.length || !result.summary ? result.rows : [result.summary];
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`);
    return reply.send(csvStream(rows, rows.length ? undefined : ['report']));
  }

  onModuleDestroy() {
    for (const res of this.streams) res.end();
  }
}
