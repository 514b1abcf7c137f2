import { Readable } from 'node:stream';
import { SftpConfig } from './config.js';
import { FileRefused, splitterFor, type FileBatch } from './splitters.js';
import { readRecords } from './records.js';

const cfg = (over: Record<string, unknown>) =>
  SftpConfig.parse({ host: 'h', username: 'u', hostKeySha256: 'SHA256:' + 'A'.repeat(43), inbox: '/in', archive: '/a', error: '/e', ...over });

/** A stream that hands the bytes over in small, uneven chunks, so every boundary case occurs. */
const chunked = (data: Buffer, sizes = [1, 7, 3, 64, 2, 5]) => {
  const parts: Buffer[] = [];
  for (let i = 0, k = 0; i < data.length; k++) {
    const n = sizes[k % sizes.length];
    parts.push(data.subarray(i, i + n));
    i += n;
  }
  return Readable.from(parts);
};

async function all(gen: AsyncGenerator<FileBatch>): Promise<FileBatch[]> {
  const out: FileBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const isa = (n: string, term = '~') =>
  `ISA*00*          *00*          *ZZ*RENOWMS        *ZZ*ACMEHOME       *261127*1200*U*00401*${n}*0*T*>${term}GS*IN*RENOWMS*ACMEHOME*20261127*1200*1*X*004010${term}ST*997*0001${term}SE*2*0001${term}GE*1*1${term}IEA*1*${n}${term}`;

describe('SFTP file splitters', () => {
  it('X12: one batch per interchange, bytes untouched, whatever the chunking and terminators', async () => {
    const a = isa('000000001');
    const b = isa('000000002', '\n');
    const c = isa('000000003', '~').split('~').join('~\r\n');
    const file = Buffer.from(`\ufeff${a}\r\n${b}\n\n${c}`);
    const batches = await all(splitterFor(cfg({ format: 'x12', x12: { us: { qualifier: 'ZZ', id: 'ACMEHOME' } } }))(chunked(file), 'f.edi'));
    // Whitespace between interchanges (and after the last) is not part of any of them.
    expect(batches.map((x) => x.body.toString())).toEqual([a, b, c.trimEnd()]);
    expect(batches.map((x) => x.meta.interchange)).toEqual(['1', '2', '3']);
  });

  it('X12: refuses what is not X12 and an interchange over the limit', async () => {
    const split = splitterFor(cfg({ format: 'x12', maxInterchangeBytes: 1024, x12: { us: { qualifier: 'ZZ', id: 'ACMEHOME' } } }));
    await expect(all(split(chunked(Buffer.from('hello,world\n'.repeat(20))), 'x.edi'))).rejects.toThrow(/not X12 at byte 0/);
    const big = Buffer.from(isa('000000001').replace('ST*997*0001~', 'ST*997*0001~' + 'N9*ZZ*XXXXXXXXXX~'.repeat(100)));
    await expect(all(split(chunked(big), 'big.edi'))).rejects.toThrow(FileRefused);
  });

  it('CSV: N records per batch with quoted newlines kept, header renamed, rows numbered across batches', async () => {
    const text = 'Order No,SKU,Note\r\n1,A,"two\r\nlines"\r\n2,B,x\r\n3,C,"q ""d"""\r\n4,D,y\r\n5,E\r\n';
    const c = cfg({ format: 'csv', batchRecords: 2, recordType: 'short-ship', csv: { columns: { 'Order No': 'order' } } });
    const batches = await all(splitterFor(c)(chunked(Buffer.from(text)), 'f.csv'));
    expect(batches.map((b) => b.meta.firstRow)).toEqual(['1', '3', '5']);
    expect(JSON.parse(batches[0].meta.columns)).toEqual(['order', 'SKU', 'Note']);
    const rows = batches.map((b) => readRecords(b.body, c, b.meta, 'i'));
    expect(rows.flatMap((r) => r.documents.map((d) => d.payload))).toEqual([
      { type: 'short-ship', file: 'f.csv', row: 1, order: '1', SKU: 'A', Note: 'two\r\nlines' },
      { type: 'short-ship', file: 'f.csv', row: 2, order: '2', SKU: 'B', Note: 'x' },
      { type: 'short-ship', file: 'f.csv', row: 3, order: '3', SKU: 'C', Note: 'q "d"' },
      { type: 'short-ship', file: 'f.csv', row: 4, order: '4', SKU: 'D', Note: 'y' },
    ]);
    // One line per record (quoted line breaks aside): the record delimiters are not doubled.
    expect(batches.map((b) => b.body.toString())).toEqual(['1,A,"two\r\nlines"\n2,B,x', '3,C,"q ""d"""\n4,D,y', '5,E']);
    expect(rows[2].findings[0]).toMatchObject({ code: 'INTEGRATION.MALFORMED_PAYLOAD', attributes: { badRecords: [{ row: 5, reason: expect.stringMatching(/Invalid Record Length/) }] } });
  });

  it('CSV and JSON lines: a batch also ends at batchBytes (wide records make smaller batches), never splitting a record', async () => {
    const wide = 'x'.repeat(600);
    const text = `Order No,Note\n${[1, 2, 3, 4, 5].map((n) => `${n},"${wide}\n${n}"`).join('\n')}\n6,${'y'.repeat(1500)}\n7,z\n`;
    const c = cfg({ format: 'csv', batchRecords: 1000, batchBytes: 1024 });
    const batches = await all(splitterFor(c)(chunked(Buffer.from(text), [100, 37, 999]), 'w.csv'));
    // 1+1 records of ~610 bytes do not fit in 1024 bytes; the 1500-byte record is larger than the limit and goes alone.
    expect(batches.map((b) => b.meta.firstRow)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(batches.every((b, i) => b.body.length <= 1024 || i === 5)).toBe(true);
    const rows = batches.flatMap((b) => readRecords(b.body, c, b.meta, 'i').documents.map((d) => d.payload as Record<string, unknown>));
    expect(rows.map((r) => [r.row, String(r.Note).length])).toEqual([[1, 602], [2, 602], [3, 602], [4, 602], [5, 602], [6, 1500], [7, 1]]);

    const j = cfg({ format: 'jsonl', batchRecords: 1000, batchBytes: 1024 });
    const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(300) }));
    const jb = await all(splitterFor(j)(chunked(Buffer.from(lines.join('\n'))), 'w.jsonl'));
    expect(jb.map((b) => b.meta.firstLine)).toEqual(['1', '4']);
    expect(jb.map((b) => b.body.toString())).toEqual([lines.slice(0, 3).join('\n'), lines.slice(3).join('\n')]);
  });

  it('JSON lines: batches of N lines; a bad line is reported with its line number', async () => {
    const c = cfg({ format: 'jsonl', batchRecords: 2, recordType: 'inventory-variance' });
    const batches = await all(splitterFor(c)(chunked(Buffer.from('{"a":1}\n{"a":2}\r\n{oops\n{"a":4}')), 'f.jsonl'));
    expect(batches).toHaveLength(2);
    const second = readRecords(batches[1].body, c, batches[1].meta, 'i');
    expect(second.documents.map((d) => d.payload)).toEqual([{ type: 'inventory-variance', file: 'f.jsonl', line: 4, a: 4 }]);
    expect(second.findings[0].attributes.badRecords).toEqual([{ line: 3, reason: expect.any(String) }]);
  });
});
