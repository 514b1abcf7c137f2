import { parse } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ConnectorFinding, ParsedDocument } from '../../src/connectors/connector.js';
import { PayloadError } from '../../src/connectors/connector.js';
import type { SftpConfig } from './config.js';

interface BadRecord {
  row?: number;
  line?: number;
  reason: string;
}

export interface RecordOutcome {
  documents: ParsedDocument[];
  findings: ConnectorFinding[];
}

/** CSV / JSON lines / XML records of one stored batch into documents for the mapping; bad records into one finding. */
export function readRecords(raw: Buffer, cfg: SftpConfig, meta: Record<string, string>, connectorId: string): RecordOutcome {
  const file = meta.file ?? 'unknown';
  const base = { type: cfg.recordType, file };
  const bad: BadRecord[] = [];
  const documents: ParsedDocument[] = [];
  if (meta.format === 'csv') {
    const columns: string[] = JSON.parse(meta.columns ?? '[]');
    const firstRow = Number(meta.firstRow ?? 1);
    bad.push(...(JSON.parse(meta.skipped ?? '[]') as { line: number; reason: string }[]).map((s) => ({ line: s.line, reason: s.reason })));
    // on_record and on_skip are called in file order: one counter numbers good and bad rows alike.
    let n = 0;
    const records: { record: Record<string, string>; row: number }[] = raw.length
      ? parse(raw, {
          columns,
          delimiter: cfg.csv.delimiter,
          quote: cfg.csv.quote,
          skip_empty_lines: true,
          skip_records_with_error: true,
          on_record: (record: Record<string, string>) => ({ record, row: firstRow + n++ }),
          on_skip: (err: Error) => void bad.push({ row: firstRow + n++, reason: (err as Error).message.replace(/ on line \d+/, '') }),
        } as never)
      : [];
    // Rows are numbered from the first data row of the file (the header is not a row).
    for (const r of records) documents.push({ documentType: cfg.recordType, payload: { ...base, row: r.row, ...r.record } });
  } else if (meta.format === 'jsonl') {
    const first = Number(meta.firstLine ?? 1);
    raw.toString('utf8').split('\n').forEach((text, i) => {
      if (!text.trim()) return;
      try {
        const v = JSON.parse(text);
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('a JSON object was expected');
        documents.push({ documentType: cfg.recordType, payload: { ...base, line: first + i, ...v } });
      } catch (e) {
        bad.push({ line: first + i, reason: (e as Error).message.slice(0, 200) });
      }
    });
  } else if (meta.format === 'xml') {
    for (const record of xmlRecords(raw, cfg.xml!.recordPath)) documents.push({ documentType: cfg.recordType, payload: { ...base, ...record } });
  }
  const findings: ConnectorFinding[] = [];
  if (bad.length) {
    const where = (b: BadRecord) => (b.row !== undefined ? `row ${b.row}` : `line ${b.line}`);
    findings.push({
      code: 'INTEGRATION.MALFORMED_PAYLOAD',
      title: `${bad.length} bad record(s) in ${file}: ${bad.slice(0, 5).map(where).join(', ')}${bad.length > 5 ? ' …' : ''}; the other records were processed`.slice(0, 200),
      correlationKey: `bad-records:${connectorId}:${file}`,
      attributes: { file, badRecords: bad.slice(0, 200), more: Math.max(0, bad.length - 200), goodRecords: documents.length },
      fails: false,
    });
  }
  return { documents, findings };
}

/** XML without entity expansion: a DOCTYPE is refused, entities stay as written. */
function xmlRecords(raw: Buffer, recordPath: string): Record<string, unknown>[] {
  const text = raw.toString('utf8');
  const doctype = text.search(/<!(DOCTYPE|ENTITY)/);
  if (doctype >= 0) {
    throw new PayloadError({ reason: 'XML with a DOCTYPE or entity declarations is refused (entity expansion is disabled)', position: { offset: doctype } });
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new PayloadError({ reason: `malformed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`, position: { line: valid.err.line, column: valid.err.col } });
  const doc = new XMLParser({ processEntities: false, ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: true }).parse(text);
  let node: unknown = doc;
  for (const part of recordPath.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  if (node === undefined) throw new PayloadError({ reason: `no records at xml.recordPath "${recordPath}"` });
  return (Array.isArray(node) ? node : [node]).filter((n) => n && typeof n === 'object') as Record<string, unknown>[];
}
