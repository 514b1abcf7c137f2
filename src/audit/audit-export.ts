import type { ServerResponse } from 'node:http';
import type { AuditEvent } from './audit-event.entity.js';
import type { AuditQuery, AuditTrail } from './audit-trail.service.js';

const CSV_COLUMNS = ['id', 'occurredAt', 'actorType', 'actorId', 'entityType', 'entityId', 'action', 'before', 'after'] as const;

/**
 * Streams the audit trail as CSV or JSON lines, a page at a time, so an export of millions of rows
 * holds one page in memory. CSV cells that a spreadsheet would run as a formula (= + - @, tab, CR)
 * are prefixed with an apostrophe, and every cell is quoted.
 */
export async function streamAudit(res: ServerResponse, audit: AuditTrail, q: Omit<AuditQuery, 'limit' | 'afterId'>, format: 'csv' | 'jsonl') {
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    'content-disposition': `attachment; filename="audit.${format === 'csv' ? 'csv' : 'jsonl'}"`,
  });
  let closed = false;
  res.on('close', () => (closed = true));
  if (format === 'csv') res.write(CSV_COLUMNS.join(',') + '\r\n');
  let afterId: string | undefined;
  try {
    while (!closed) {
      const page = await audit.query({ ...q, afterId, limit: 1000 });
      for (const e of page) {
        const ok = res.write(format === 'csv' ? csvLine(e) : JSON.stringify(e) + '\n');
        if (!ok) await new Promise((r) => res.once('drain', r));
      }
      if (page.length < 1000) break;
      afterId = page[page.length - 1].id;
    }
  } finally {
    res.end();
  }
}

function csvLine(e: AuditEvent): string {
  return CSV_COLUMNS.map((c) => csvCell(e[c])).join(',') + '\r\n';
}

export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}
