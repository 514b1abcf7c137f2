import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/hub-config.js';
import { startHub } from '../src/hub.js';
import { matchDocuments, type MatchDocument } from '../src/matching/document-match.js';
import { DocumentMatching } from '../src/matching/document-matching.service.js';
import { Ingestion } from '../src/ingestion/ingestion.service.js';
import { ExceptionRecording } from '../src/cases/exception-recording.service.js';
import { Pipeline } from '../src/ingestion/pipeline.service.js';
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
 *   npm run bench:matching -- [--lines=200] [--invoices=40] [--bare=2000] [--clean]     (BENCH_KEEP=1 keeps the schema for inspection)
 *
 * --clean: every invoice bills what was ordered and shipped, so matching finds nothing and records
 * nothing: the cost of matching alone. Without it every invoice has a few discrepancies (one exception).
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
const CLEAN = process.argv.includes('--clean');
// Every 20th line billed 3 % over price: a realistic invoice with a few discrepancies (one exception per invoice).
const invPrice = (i: number) => (!CLEAN && i % 20 === 0 ? Math.round(PRICES[i] * 103) / 100 : PRICES[i]);
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

/** CPU time of every postgres process so far, in ms (Linux /proc; 0 elsewhere). */
function postgresCpuMs(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // the process ended
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
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
    // A/B in the same run (bench-only switch, not a mode of the hub): every measured round of PO, ship
    // notice and invoice is followed by the same three files for another PO with matching switched off
    // (its batch is empty, so the pipeline keeps no lines, takes no subject locks and reads no state, and
    // its call into matching returns at once). The difference is what matching costs ingestion, wherever
    // its work lands (its first read and end writes go out in the pipeline's statements), and
    // alternating rounds cancel the machine's drift.
    let off = false;
    const realMatch = matching.afterDocumentsStored.bind(matching);
    const realBatch = matching.batch.bind(matching);
    matching.batch = (stored) => realBatch(off ? [] : stored);
    matching.afterDocumentsStored = (m, stored, held) =>
      off ? Promise.resolve({ subjects: 0, unchanged: 0, raised: 0, resolved: 0, after: [], audit: [], events: [], writes: [] }) : realMatch(m, stored, held);
    // Timing wrappers (ms summed per wrapped method and phase): the pipeline's one call into matching
    // (inside the pipeline transaction); the part of it that records what matching found (route, case,
    // SLA clocks, audit, outbox: the same work as any exception's); accepting the file (HTTP handler:
    // envelope check, sha256, raw bytes and audit stored before the 202), X12 ingestion work outside the
    // transaction; the pipeline's whole run for the message (transaction and after-commit work) and, of
    // that, the after-commit work (SLA alarms set, case actions enqueued).
    type Spent = { match: number; record: number; accept: number; batch: number; parse: number; map: number; settle: number };
    const zero = (): Spent => ({ match: 0, record: 0, accept: 0, batch: 0, parse: 0, map: 0, settle: 0 });
    const spent = { on: zero(), off: zero() };
    let measuring = false;
    // This process's CPU (ms) during each wrapped call: whatever ran meanwhile (the bench is sequential, so mostly the call).
    const cpuIn = { on: zero(), off: zero() };
    const time = <T extends object, K extends keyof T & string>(target: T, method: K, into: keyof Spent) => {
      const original = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
      (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const t = performance.now();
        const c = process.cpuUsage();
        try {
          return await original(...args);
        } finally {
          if (measuring) {
            spent[off ? 'off' : 'on'][into] += performance.now() - t;
            const d = process.cpuUsage(c);
            cpuIn[off ? 'off' : 'on'][into] += (d.user + d.system) / 1000;
          }
        }
      };
    };
    time(matching, 'afterDocumentsStored', 'match');
    time(hub.app.get(MatchCases), 'raise', 'record');
    time(hub.app.get(Ingestion), 'accept', 'accept');
    time(hub.app.get(Pipeline), 'process', 'batch');
    time(hub.app.get(ExceptionRecording), 'settle', 'settle');
    // The pipeline's end is awaited through its own call, not `?wait` (which polls every 50 ms: a poll
    // landing inside a measured pipeline run would count as the run's time).
    // Any run's end wakes the poster, which then reads the message's status (between runs): a message may
    // be taken by another job's scooping round, whose ids do not name it.
    let wake: (() => void) | null = null;
    let runsEnded = 0;
    const pipeline = hub.app.get(Pipeline);
    const runPipeline = pipeline.process.bind(pipeline);
    pipeline.process = async (ids, opts) => {
      try {
        return await runPipeline(ids, opts);
      } finally {
        runsEnded++;
        wake?.();
      }
    };
    const post = async (body: string, query = '') => {
      const r = await fetch(`${hub.url}/v1/connectors/edi/messages?${query}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/edi-x12' }, body });
      const { messageId } = (await r.json()) as { messageId: string };
      for (;;) {
        const seen = runsEnded;
        const j = (await (await fetch(`${hub.url}/v1/messages/${messageId}`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as { status: string };
        if (['parsed', 'routed', 'mapped'].includes(j.status)) return j;
        if (j.status !== 'received') throw new Error(`unexpected status ${j.status}`);
        if (runsEnded === seen) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 1000); });
        wake = null;
      }
    };
    // One round: the PO (our outbound copy), its ship notice and its invoice; parse and map from the stage metrics.
    let e2e = 0;
    let routed = 0;
    let invoiceMatch = 0;
    let bytes = 0;
    // Accept + pipeline run of every measured round, per phase (the k-th off round follows the k-th on round).
    const rounds = { on: [] as number[], off: [] as number[] };
    // Per on round: recording what matching found (MatchCases.raise and the after-commit alarms and jobs).
    const recorded: number[] = [];
    // CPU per phase (ms): this process (hub and load), and every PostgreSQL process (from /proc).
    const cpu = { on: { hub: 0, pg: 0 }, off: { hub: 0, pg: 0 } };
    const round = async (po: string, invoiceNumber: string) => {
      const phase = spent[off ? 'off' : 'on'];
      const r0 = phase.accept + phase.batch;
      const rec0 = phase.record + phase.settle;
      const c0 = process.cpuUsage();
      const p0 = postgresCpuMs();
      const s0 = await stageSums(metrics);
      await post(po850(po), 'direction=outbound');
      await post(asn856(po));
      const file = inv810(po, invoiceNumber);
      bytes = file.length;
      const t = performance.now();
      const m0 = spent.on.match;
      const r = await post(file);
      const s1 = await stageSums(metrics);
      if (!measuring) return;
      rounds[off ? 'off' : 'on'].push(phase.accept + phase.batch - r0);
      if (!off) recorded.push(phase.record + phase.settle - rec0);
      const c1 = process.cpuUsage(c0);
      cpu[off ? 'off' : 'on'].hub += (c1.user + c1.system) / 1000;
      cpu[off ? 'off' : 'on'].pg += postgresCpuMs() - p0;
      const into = spent[off ? 'off' : 'on'];
      for (const k of ['parse', 'map'] as const) into[k] += ((s1[k] ?? 0) - (s0[k] ?? 0)) * 1000;
      if (off) return;
      e2e += performance.now() - t;
      invoiceMatch += spent.on.match - m0;
      routed += r.status === 'routed' ? 1 : 0;
    };
    for (let k = 0; k < INVOICES + 3; k++) {
      measuring = k >= 3; // first 3 rounds of each phase: warm-up
      off = false;
      await round(`PO-${k}`, `INV-${k}`);
      off = true;
      await round(`PO-X${k}`, `INV-X${k}`);
    }
    const n = INVOICES * 3; // messages per phase in the measured window
    const per = (x: Spent) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v / n])) as Spent;
    const on = per(spent.on), offp = per(spent.off);
    const { parse, map, batch, match, record, accept: acc } = on;
    const rest = batch - map - match;
    // A/B: what switching matching on adds to accept + pipeline, plus mapping, over the rest of that ingestion.
    const ingestOff = offp.accept + offp.batch;
    const added = on.accept + on.batch - ingestOff + map;
    const lines = [
      `Matching benchmark: ${LINES}-line PO, ship notice and invoice per round; ${INVOICES} measured rounds (+3 warm-up) with matching and as many without; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`,
      `bare matcher (3-way, ${LINES} lines, ${b.findings} findings): ${b.usPerInvoice.toFixed(1)} µs per invoice (${BARE} runs)`,
      `pipeline, invoice ${bytes} bytes, POST until its pipeline run ended: ${(e2e / INVOICES).toFixed(2)} ms per invoice (${routed}/${INVOICES} routed); matching's call inside it ${(invoiceMatch / INVOICES).toFixed(2)} ms (match, record the exception; the lines were kept and the PO's state read by the pipeline's statements)`,
      `per message averaged over PO + ASN + invoice: parse ${parse.toFixed(2)} ms, map ${map.toFixed(2)} ms, matching ${match.toFixed(2)} ms (of which recording the exception ${record.toFixed(2)} ms), whole pipeline run ${batch.toFixed(2)} ms`,
      `mapping + matching = ${(map + match).toFixed(2)} ms; they add ${(((map + match) / rest) * 100).toFixed(1)} % to the rest of ingestion (${rest.toFixed(2)} ms: parse, route, store, audit) = ${(((map + match) / batch) * 100).toFixed(1)} % of the pipeline run`,
      // The same ratio with the recording of what matching found counted as ingestion work (as it is for exceptions a mapping raises).
      `without recording the exception: mapping + matching = ${(map + match - record).toFixed(2)} ms, ${(((map + match - record) / (rest + record)) * 100).toFixed(1)} % of the rest of ingestion (${(rest + record).toFixed(2)} ms)`,
      // Over the whole hub-side ingestion of the file: accepting it plus the pipeline transaction.
      `with accepting the file counted (${acc.toFixed(2)} ms per message): mapping + matching add ${(((map + match) / (rest + acc)) * 100).toFixed(1)} % to the rest of ingestion (${(rest + acc).toFixed(2)} ms); without recording the exception ${(((map + match - record) / (rest + acc + record)) * 100).toFixed(1)} %`,
      `A/B, same files with matching switched off (accept ${offp.accept.toFixed(2)} + pipeline run ${offp.batch.toFixed(2)} ms per message, parse ${offp.parse.toFixed(2)}, map ${offp.map.toFixed(2)}) against on (${on.accept.toFixed(2)} + ${on.batch.toFixed(2)} ms, of which after commit ${on.settle.toFixed(2)}): ` +
        `mapping + matching add ${added.toFixed(2)} ms, ${((added / (ingestOff - map)) * 100).toFixed(1)} % of the rest of ingestion (${(ingestOff - map).toFixed(2)} ms)`,
      // The same from medians (robust against a round slowed by a collection or a background job): the
      // median over rounds of (on round − the off round after it), and the median off round, per message.
      `A/B from medians of ${INVOICES} paired rounds: mapping + matching add ${(median(rounds.on.map((v, i) => v - rounds.off[i])) / 3 + map).toFixed(2)} ms per message, ` +
        `${(((median(rounds.on.map((v, i) => v - rounds.off[i])) / 3 + map) / (median(rounds.off) / 3 - offp.map)) * 100).toFixed(1)} % of the rest of ingestion (median off round ${(median(rounds.off) / 3).toFixed(2)} ms per message, on ${(median(rounds.on) / 3).toFixed(2)})`,
      // Recording the exception matching raised (route, case, SLA clocks, audit, events, alarms) is what any exception costs;
      // when a mapping raises one it counts as ingestion. The same medians with it counted so:
      `A/B from medians without recording what matching found (${(median(recorded) / 3).toFixed(2)} ms per message): mapping + matching add ` +
        `${(median(rounds.on.map((v, i) => v - rounds.off[i] - recorded[i])) / 3 + map).toFixed(2)} ms per message, ` +
        `${(((median(rounds.on.map((v, i) => v - rounds.off[i] - recorded[i])) / 3 + map) / (median(rounds.off.map((v, i) => v + recorded[i])) / 3 - offp.map)) * 100).toFixed(1)} % of the rest of ingestion`,
      `CPU of this process during the calls, per message, on / off: accept ${(cpuIn.on.accept / n).toFixed(2)} / ${(cpuIn.off.accept / n).toFixed(2)} ms, pipeline run ${(cpuIn.on.batch / n).toFixed(2)} / ${(cpuIn.off.batch / n).toFixed(2)} ms, of which matching ${(cpuIn.on.match / n).toFixed(2)} (recording ${(cpuIn.on.record / n).toFixed(2)}), after commit ${(cpuIn.on.settle / n).toFixed(2)} / ${(cpuIn.off.settle / n).toFixed(2)} ms`,
      `CPU per message, on / off: this process ${(cpu.on.hub / n).toFixed(2)} / ${(cpu.off.hub / n).toFixed(2)} ms, PostgreSQL ${(cpu.on.pg / n).toFixed(2)} / ${(cpu.off.pg / n).toFixed(2)} ms (whole rounds, background work included)`,
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
