import { Readable } from 'node:stream';

/**
 * One CSV cell. Cells a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR)
 * get a leading apostrophe (OWASP "CSV injection"); quotes are doubled; cells with separators,
 * quotes or line breaks are quoted. Numbers are written as numbers, so negative figures stay numeric.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(' ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[]): string {
  return values.map(csvCell).join(',') + '\r\n';
}

/** Streams rows as CSV; columns come from the first row (or are given), the header is always written. */
export function csvStream(rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>, columns?: string[]): Readable {
  async function* lines() {
    let cols = columns;
    if (cols) yield csvLine(cols);
    for await (const r of rows) {
      if (!cols) {
        cols = Object.keys(r);
        yield csvLine(cols);
      }
      yield csvLine(cols.map((c) => r[c]));
    }
  }
  return Readable.from(lines());
}
