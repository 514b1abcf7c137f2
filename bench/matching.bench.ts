import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/hub-config.js';
import { startHub } from '../src/hub.js';
import { matchDocuments, type MatchDocument } from '../src/matching/document-match.js';
import { DocumentMatching } from '../src/matching/document-matching.service.js';
import { Ingestion } from '../src/ingestion/ingestion.service.js';
import { MatchCases } from '../src/matching/match-cases.js';
import { DEFAULT_MATCHING_POLICY } from '../src/matching/matching-policy.js';
import { createLogger } from '../src/observability/hub-logger.js';
import { HubMetrics } from '../src/observability/hub-metrics.js';
import { CONNECTOR_ID, cleanup, newWorld } from './lib/hub-process.js';
import { prng } from './lib/prng.js';

/**
 * Matching benchmark (issue 4): cost of matching one 200-line invoice against its 200-line PO and ship
 * notice, (1) the bare matcher in memory and (2) through the whole pipeline (X12 file posted with
 * ?wait, one PostgreSQL transaction), and the share that mapping + matching add to the X12 ingestion
 * time of the same file. See docs/benchmarks.md, section "Matching (issue 4)".
 *
 *   npm run bench:matching -- [--lines=200] [--invoices=40] [--bare=2000]     (BENCH_KEEP=1 keeps the schema for inspection)
 *
 * Runs the hub in this process (all roles) on its own schema and Redis prefix, dropped at the end.
 */
const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const LINES = arg('lines', 200);
const INVOICES = arg('invoices', 40);
const BARE = arg('bare', 2000);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const rand = prng(4);
const SKUS = Array.from({ length: LINES }, (_, i) => `SKU-${String(i + 1).padStart(5, '0')}`);
const PRICES = SKUS.map(() => Math.round((1 + rand() * 99) * 100) / 100);
const QTYS = SKUS.map(() => 1 + Math.floor(rand() * 50));

let isa = 10_000;
function x12(from: string, to: string, fid: string, set: string, body: string[]): string {
  const pad = (s: string, n: number) => s.padEnd(n, ' ');
  const n = isa++;
  const ctl = String(n).padStart(9, '0');
  const segs = [
    `ISA*00*${pad('', 10)}*00*${pad('', 10)}*ZZ*${pad(from, 15)}*ZZ*${pad(to, 15)}*261127*1200*U*00401*${ctl}*0*P*>`,
    `GS*${fid}*${from}*${to}*20261127*1200*${n}*X*004010`, `ST*${set}*0001`, ...body, `SE*${body.length + 2}*0001`, `GE*1*${n}`, `IEA*1*${ctl}`,
  ];
  return segs.join('~\n') + '~\n';
}
const po850 = (po: string) => x12('ACMEHOME', 'ACMESUPPLY', 'PO', '850', [`BEG*00*SA*${po}**20261120`, ...SKUS.map((s, i) => `PO1*${i + 1}*${QTYS[i]}*EA*${PRICES[i]}**VP*${s}`), `CTT*${LINES}`]);
const asn856 = (po: string) => x12('ACMESUPPLY', 'ACMEHOME', 'SH', '856', [
  `BSN*00*SH-${po}*20261127*1200`, 'HL*1**S', 'HL*2*1*O', `PRF*${po}`,
  ...SKUS.flatMap((s, i) => [`HL*${i + 3}*2*I`, `LIN**VP*${s}`, `SN1**${QTYS[i]}*EA`]), `CTT*${LINES}`,
]);
// Every 20th line billed 3 % over price: a realistic invoice with a few discrepancies (one exception per invoice).
const invPrice = (i: number) => (i % 20 === 0 ? Math.round(PRICES[i] * 103) / 100 : PRICES[i]);
const inv810 = (po: string, n: string) => x12('ACMESUPPLY', 'ACMEHOME', 'IN', '810', [
  `BIG*20261128*${n}**${po}`, ...SKUS.map((s, i) => `IT1*${i + 1}*${QTYS[i]}*EA*${invPrice(i)}**VP*${s}`),
  `TDS*${Math.round(SKUS.reduce((t, _, i) => t + QTYS[i] * invPrice(i), 0) * 100)}`, `CTT*${LINES}`,
]);

function bare(): { usPerInvoice: number; findings: number } {
  const at = new Date();
  const doc = (type: MatchDocument['type'], lines: MatchDocument['lines'], extra: Partial<MatchDocument> = {}): MatchDocument => ({ id: type, messageId: type, receivedAt: at, type, poNumbers: ['PO-1'], lines, ...extra });
  const docs = [
    doc('purchase_order', SKUS.map((s, i) => ({ lineNumber: String(i + 1), vendorPart: s, quantityOrdered: QTYS[i], unitPrice: PRICES[i] }))),
    doc('ship_notice', SKUS.map((s, i) => ({ vendorPart: s, quantityShipped: QTYS[i] })), { shipmentId: 'S1' }),
    doc('invoice', SKUS.map((s, i) => ({ lineNumber: String(i + 1), vendorPart: s, quantityInvoiced: QTYS[i], unitPrice: invPrice(i) })), { invoiceNumber: 'I1' }),
  ];
  let findings = 0;
  for (let i = 0; i < 200; i++) findings = matchDocuments('PO-1', docs, DEFAULT_MATCHING_POLICY.defaults).invoices[0].findings.length;
  const t = performance.now();
  for (let i = 0; i < BARE; i++) matchDocuments('PO-1', docs, DEFAULT_MATCHING_POLICY.defaults);
  return { usPerInvoice: ((performance.now() - t) * 1000) / BARE, findings };
}

async function stageSums(metrics: HubMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.stageDuration.get()).values) {
    if (v.metricName === 'hub_stage_duration_seconds_sum') out[String(v.labels.stage)] = v.value;
  }
  return out;
}

async function main() {
  const b = bare();
  const world = newWorld(DATABASE_URL, REDIS_URL);
  rmSync(path.join(world.connectorsDir, `${CONNECTOR_ID}.json`)); // only the X12 instance below
  writeFileSync(path.join(world.connectorsDir, 'edi.json'), JSON.stringify({
    id: 'edi', type: 'x12', name: 'Bench EDI',
    config: { system: 'edi', mapping: 'x12-documents', us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [{ id: 'acme-supply', name: 'Acme', isa: { qualifier: 'ZZ', id: 'ACMESUPPLY' }, ack: '997' }] },
    secrets: {},
  }));
  const adminKey = world.adminKey;
  const cfg = loadConfig({ ...world.env, HUB_LOG_LEVEL: 'silent', PORT: '0' });
  const hub = (await startHub(cfg, createLogger('silent'))) as Awaited<ReturnType<typeof startHub>> & { url: string };
  try {
    const matching = hub.app.get(DocumentMatching);
    const metrics = hub.app.get(HubMetrics);
    // Timing wrappers (ms summed per wrapped method): the pipeline's one call into matching (inside the
    // pipeline transaction); the part of it that records what matching found (route, case, SLA clocks,
    // audit, outbox: the same work as any exception's); and accepting the file (HTTP handler: envelope
    // check, sha256, raw bytes and audit stored before the 202), X12 ingestion work outside the
    // transaction, timed so the share can be given over both.
    const spent = { match: 0, record: 0, accept: 0 };
    const time = <T extends object, K extends keyof T & string>(target: T, method: K, into: keyof typeof spent) => {
      const original = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
      (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return await original(...args);
        } finally {
          spent[into] += performance.now() - t;
        }
      };
    };
    time(matching, 'afterDocumentsStored', 'match');
    time(hub.app.get(MatchCases), 'raise', 'record');
    time(hub.app.get(Ingestion), 'accept', 'accept');
    const post = async (body: string, query = 'wait=30') => {
      const r = await fetch(`${hub.url}/v1/connectors/edi/messages?${query}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/edi-x12' }, body });
      const j = (await r.json()) as { status: string };
      if (!['parsed', 'routed', 'mapped'].includes(j.status)) throw new Error(`unexpected status ${j.status}`);
      return j;
    };
    const rounds = INVOICES + 3;
    let e2e = 0;
    let routed = 0;
    let invoiceMatch = 0;
    let bytes = 0;
    let before: Record<string, number> = {};
    let matchBefore = 0;
    let recordBefore = 0;
    let acceptBefore = 0;
    for (let k = 0; k < rounds; k++) {
      const po = `PO-${k}`;
      await post(po850(po), 'wait=30&direction=outbound');
      await post(asn856(po));
      if (k === 3) { before = await stageSums(metrics); matchBefore = spent.match; recordBefore = spent.record; acceptBefore = spent.accept; } // first 3 rounds: warm-up
      const file = inv810(po, `INV-${k}`);
      bytes = file.length;
      const t = performance.now();
      const m0 = spent.match;
      const r = await post(file);
      if (k >= 3) { e2e += performance.now() - t; invoiceMatch += spent.match - m0; routed += r.status === 'routed' ? 1 : 0; }
    }
    // Stage sums cover every message of the measured rounds (PO, ASN and invoice): scale by the invoice
    // rounds' own matching time for the matching figure; parse/map/batch are read per stage below.
    const after = await stageSums(metrics);
    const d = (s: string) => ((after[s] ?? 0) - (before[s] ?? 0)) * 1000;
    const n = INVOICES * 3; // messages in the measured window
    const parse = d('parse') / n, map = d('map') / n, batch = d('batch') / n, match = (spent.match - matchBefore) / n, record = (spent.record - recordBefore) / n, acc = (spent.accept - acceptBefore) / n;
    const rest = batch - map - match;
    const lines = [
      `Matching benchmark: ${LINES}-line PO, ship notice and invoice per round; ${INVOICES} measured rounds (+3 warm-up); ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`,
      `bare matcher (3-way, ${LINES} lines, ${b.findings} findings): ${b.usPerInvoice.toFixed(1)} µs per invoice (${BARE} runs)`,
      `pipeline, invoice ${bytes} bytes, POST ?wait round trip: ${(e2e / INVOICES).toFixed(2)} ms per invoice (${routed}/${INVOICES} routed); matching inside it ${(invoiceMatch / INVOICES).toFixed(2)} ms (keep the matched lines, lock, read the PO's kept lines, match, record the exception)`,
      `per message averaged over PO + ASN + invoice: parse ${parse.toFixed(2)} ms, map ${map.toFixed(2)} ms, matching ${match.toFixed(2)} ms (of which recording the exception ${record.toFixed(2)} ms), whole pipeline transaction ${batch.toFixed(2)} ms`,
      `mapping + matching = ${(map + match).toFixed(2)} ms; they add ${(((map + match) / rest) * 100).toFixed(1)} % to the rest of ingestion (${rest.toFixed(2)} ms: parse, route, store, audit) = ${(((map + match) / batch) * 100).toFixed(1)} % of the transaction`,
      // The same ratio with the recording of what matching found counted as ingestion work (as it is for exceptions a mapping raises).
      `without recording the exception: mapping + matching = ${(map + match - record).toFixed(2)} ms, ${(((map + match - record) / (rest + record)) * 100).toFixed(1)} % of the rest of ingestion (${(rest + record).toFixed(2)} ms)`,
      // Over the whole hub-side ingestion of the file: accepting it plus the pipeline transaction.
      `with accepting the file counted (${acc.toFixed(2)} ms per message): mapping + matching add ${(((map + match) / (rest + acc)) * 100).toFixed(1)} % to the rest of ingestion (${(rest + acc).toFixed(2)} ms); without recording the exception ${(((map + match - record) / (rest + acc + record)) * 100).toFixed(1)} %`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await hub.close();
    if (process.env.BENCH_KEEP) console.log(`kept schema ${world.tag}`);
    else for (const p of await cleanup(world)) console.error(p);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
