import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { SftpConfig } from './config.js';

/** One stored message's worth of a file: its bytes and what parse() needs to read them. */
export interface FileBatch {
  body: Buffer;
  meta: Record<string, string>;
}

/** The file cannot be taken at all (too large, not the expected format): moved to the error folder. */
export class FileRefused extends Error {}

/**
 * Splits a streamed file into bounded batches, in the same way every time for the same bytes, so
 * batch n of a file always has the same key and a re-run after a crash stores nothing twice.
 */
export function splitterFor(cfg: SftpConfig): (src: Readable, file: string) => AsyncGenerator<FileBatch> {
  switch (cfg.format) {
    case 'csv':
      return (src, file) => csvBatches(src, file, cfg);
    case 'jsonl':
      return (src, file) => lineBatches(src, file, cfg.batchRecords, cfg.batchBytes);
    case 'xml':
      return (src, file) => wholeFile(src, file, cfg.xml!.maxBytes);
    case 'x12':
      return (src, file) => interchanges(src, file, cfg.maxInterchangeBytes);
  }
}

/**
 * Records of one batch, written as UTF-8 into one growing buffer as they arrive (joined by \n). The
 * strings the parser hands over die young this way: holding 1000 of them until the batch is full got
 * them promoted to V8's old space, and a 1 GB file left a gigabyte of old-space garbage behind.
 */
class BatchBytes {
  private buf: Buffer;
  private used = 0;
  count = 0;

  constructor(private readonly initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get bytes(): number {
    return this.used;
  }

  push(text: string) {
    const need = this.used + (this.count ? 1 : 0) + Buffer.byteLength(text, 'utf8');
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    if (this.count) this.buf[this.used++] = 0x0a;
    this.used += this.buf.write(text, this.used, 'utf8');
    this.count++;
  }

  /** The batch's bytes (a view, not a copy); the next batch starts in a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(this.initial);
    this.used = 0;
    this.count = 0;
    return out;
  }
}

const batchStart = (maxBytes: number) => Math.min(maxBytes, 64 * 1024);

/** CSV: header (or configured names) kept in meta; each batch holds the raw text of up to N records and batchBytes. */
async function* csvBatches(src: Readable, file: string, cfg: SftpConfig): AsyncGenerator<FileBatch> {
  const o = cfg.csv;
  const skipped: { line: number; reason: string }[] = [];
  const parser = src.pipe(
    parse({
      delimiter: o.delimiter,
      quote: o.quote,
      encoding: o.encoding,
      bom: true,
      raw: true,
      info: true,
      // Column counts are checked per batch in parse() (with the row number in the exception);
      // here only records the parser cannot delimit at all are skipped, and reported.
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => void skipped.push({ line: (err as { lines?: number }).lines ?? 0, reason: (err as Error).message }),
    }),
  );
  src.on('error', (e) => parser.destroy(e));
  let columns: string[] | undefined = o.header ? undefined : o.columnNames;
  const batch = new BatchBytes(batchStart(cfg.batchBytes));
  let firstRow = 1;
  let firstLine = 0;
  let row = 0;
  const flush = (): FileBatch => ({
    body: batch.take(),
    meta: { format: 'csv', file, columns: JSON.stringify(columns), firstRow: String(firstRow), firstLine: String(firstLine), skipped: JSON.stringify(skipped.splice(0)) },
  });
  for await (const r of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
    if (!columns) {
      columns = r.record.map((c) => o.columns[c.trim()] ?? c.trim());
      continue;
    }
    // csv-parse's raw text ends with the record delimiter; the batch joins records with \n itself.
    const raw = r.raw.replace(/\r?\n$|\r$/, '');
    // A record that would take the batch over batchBytes starts the next one.
    if (batch.count && batch.bytes + 1 + Buffer.byteLength(raw, 'utf8') > cfg.batchBytes) yield flush();
    if (!batch.count) {
      firstRow = row + 1;
      firstLine = r.info.lines;
    }
    batch.push(raw);
    row++;
    if (batch.count >= cfg.batchRecords) yield flush();
  }
  if (!columns) throw new FileRefused(`${file}: empty CSV file, no header line`);
  if (batch.count || skipped.length) yield flush();
}

/** JSON lines: up to N lines and batchBytes per batch, split on \n only (JSON never contains a raw newline). */
async function* lineBatches(src: Readable, file: string, per: number, maxBytes: number): AsyncGenerator<FileBatch> {
  let carry = '';
  const batch = new BatchBytes(batchStart(maxBytes));
  let line = 0;
  let first = 1;
  const flush = (): FileBatch => ({ body: batch.take(), meta: { format: 'jsonl', file, firstLine: String(first) } });
  const take = function* (l: string) {
    line++;
    if (batch.count && batch.bytes + 1 + Buffer.byteLength(l, 'utf8') > maxBytes) yield flush();
    if (!batch.count) first = line;
    batch.push(l);
    if (batch.count >= per) yield flush();
  };
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of src as AsyncIterable<Buffer>) {
    const parts = (carry + decoder.decode(chunk, { stream: true })).split('\n');
    carry = parts.pop()!;
    for (const l of parts) yield* take(l.replace(/\r$/, ''));
  }
  carry += decoder.decode();
  if (carry.length) yield* take(carry.replace(/\r$/, ''));
  if (batch.count) yield flush();
}

/** XML is parsed as a document, so it is read whole, up to a limit; larger files are refused. */
async function* wholeFile(src: Readable, file: string, max: number): AsyncGenerator<FileBatch> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      src.destroy();
      throw new FileRefused(`${file}: XML file larger than xml.maxBytes (${max} bytes); split it at the sender or raise the limit`);
    }
    parts.push(chunk);
  }
  const body = Buffer.concat(parts);
  // Entity expansion is off in parse() anyway; a DOCTYPE is refused outright so an entity bomb never gets near a parser.
  const doctype = body.indexOf('<!DOCTYPE');
  const entity = body.indexOf('<!ENTITY');
  if (doctype >= 0 || entity >= 0) {
    const at = doctype >= 0 ? doctype : entity;
    const lineNo = body.subarray(0, at).toString('utf8').split('\n').length;
    throw new FileRefused(`${file}: XML with a DOCTYPE or entity declarations is refused (line ${lineNo}): entity expansion is disabled, declare no entities`);
  }
  yield { body, meta: { format: 'xml', file } };
}

/**
 * X12: one message per interchange (ISA … IEA), found by reading each ISA's own separators. Bytes
 * pass through untouched; whitespace between interchanges is dropped.
 */
async function* interchanges(src: Readable, file: string, max: number): AsyncGenerator<FileBatch> {
  let parts: Buffer[] = [];
  let size = 0;
  let head = '';
  let sep = '';
  let term = '';
  let seg = '';
  let offset = 0;
  let n = 0;
  const ws = (c: string) => c === '\r' || c === '\n' || c === ' ' || c === '\t';
  const emit = (): FileBatch => {
    const b = { body: Buffer.concat(parts), meta: { format: 'x12', file, interchange: String(++n) } };
    parts = [];
    size = 0;
    head = term = seg = '';
    return b;
  };
  const tooBig = () => new FileRefused(`${file}: X12 interchange ${n + 1} is larger than maxInterchangeBytes (${max} bytes); send smaller interchanges or raise the limit`);
  for await (const chunk of src as AsyncIterable<Buffer>) {
    const s = chunk.toString('latin1');
    let i = 0;
    let from = 0; // where the current interchange's bytes start in this chunk (once its ISA is read)
    while (i < s.length) {
      if (!term) {
        // Between interchanges: skip line breaks and a byte order mark, then read the 106-byte ISA.
        if (!head) while (i < s.length && (ws(s[i]) || s.charCodeAt(i) === 0xef || s.charCodeAt(i) === 0xbb || s.charCodeAt(i) === 0xbf)) i++;
        if (i >= s.length) break;
        const take = s.slice(i, i + 106 - head.length);
        head += take;
        parts.push(chunk.subarray(i, i + take.length));
        size += take.length;
        i += take.length;
        from = i;
        if (head.length < 106) break;
        if (!head.startsWith('ISA')) throw new FileRefused(`${file}: not X12 at byte ${offset + i - 106}: expected an ISA segment, found "${head.slice(0, 20)}"`);
        sep = head[3];
        term = head[105];
        continue;
      }
      // Only the first characters of each segment are looked at (is it IEA?); the rest is skipped with indexOf.
      while (seg.length < 4 && i < s.length && s[i] !== term) {
        if (seg.length || !ws(s[i])) seg += s[i];
        i++;
      }
      if (i >= s.length) break;
      const j = s.indexOf(term, i);
      if (j === -1) {
        i = s.length;
        break;
      }
      i = j + 1;
      if (seg === 'IEA' + sep) {
        parts.push(chunk.subarray(from, i));
        size += i - from;
        if (size > max) throw tooBig();
        yield emit();
        from = i;
      } else seg = '';
    }
    if (term && from < s.length) {
      parts.push(chunk.subarray(from));
      size += s.length - from;
      if (size > max) throw tooBig();
    }
    offset += s.length;
  }
  // An interchange without its IEA is still stored: the X12 parser reports exactly what is missing.
  if (size > 0) yield emit();
  if (n === 0) throw new FileRefused(`${file}: empty file, no X12 interchange`);
}
