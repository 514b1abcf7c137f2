import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { X12FatInterchange, X12Parser, type X12Interchange as NodeX12Interchange } from 'node-x12';
import { buildDocument } from '../connectors/x12/documents/index.js';
import { EnvelopeWalker } from '../connectors/x12/envelope.js';
import { X12Tokenizer } from '../connectors/x12/tokenizer.js';
import { generate856 } from './lib/x12-generate.js';

/**
 * X12 ingestion benchmark (issue 3): MiB/s and transaction sets/s of our tokenize + validate + canonical
 * document path, side by side with node-x12's bare parse() and a bare JavaScript split of the same bytes.
 * See docs/benchmarks.md, section "X12 ingestion (issue 3)".
 *
 *   npm run bench:x12 -- [--mb=100] [--stream-mb=200] [--x12-mb=20,100] [--single-mb=20] [--runs=3]
 *                        [--timeout=900] [--newlines] [--keep] [--dir=/tmp]
 *
 * Every measurement runs in a fresh child (`--worker <mode> <file>`) so that its peak RSS (VmHWM) is its
 * own and one mode's garbage cannot slow the next. Timings start after module loading, at the first read.
 * Our modes run with the Node flags the hub runs with in production (scripts/start-hub.sh's default;
 * BENCH_HUB_NODE_ARGS replaces them, as for the benchmarks that spawn a hub); the baselines (bare split,
 * node-x12) run on plain node, as anyone would run them.
 */
type Mode = 'ours' | 'walk' | 'tokenize' | 'split' | 'nodex12';

interface WorkerResult {
  mode: Mode;
  bytes: number;
  seconds: number;
  /** user + system CPU of the child over the same span (GC helper threads included). */
  cpuSeconds: number;
  segments: number;
  sets: number;
  docs?: number;
  lines?: number;
  findings?: number;
  peakRssMiB: number;
  /** 1-minute load average when the child ended (set by the parent): other work competing for the CPUs. */
  load1?: number;
  error?: string;
}

type Counts = Pick<WorkerResult, 'segments' | 'sets' | 'docs' | 'lines' | 'findings'>;

const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);

/**
 * Fingerprint of the compiled code the workers load. Each worker imports dist/ afresh, so a rebuild by
 * someone else mid-run would silently mix two versions of the code in one table; the run says so instead.
 */
function codeFingerprint(): string {
  const root = path.resolve(path.dirname(SELF), '..');
  const h = createHash('sha256');
  for (const dir of ['connectors/x12', 'src/canonical', 'bench']) {
    const files = readdirSync(path.join(root, dir), { recursive: true }).map(String).filter((f) => f.endsWith('.js')).sort();
    for (const f of files) h.update(f).update(readFileSync(path.join(root, dir, f)));
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * The production hub's Node flags: the default written in scripts/start-hub.sh, read from the script itself
 * so that the two cannot drift apart, or BENCH_HUB_NODE_ARGS when set ("" for plain node). Not
 * bench/lib/hub-process.ts's productionNodeFlags(): importing that module loads pg, ioredis and BullMQ.
 */
function hubNodeFlags(): string[] {
  let flags = process.env.BENCH_HUB_NODE_ARGS;
  if (flags === undefined) {
    const script = readFileSync(path.resolve(path.dirname(SELF), '../../scripts/start-hub.sh'), 'utf8');
    const m = /\$\{HUB_NODE_FLAGS-"([^"]*)"\}/.exec(script);
    if (!m) throw new Error('scripts/start-hub.sh: no ${HUB_NODE_FLAGS-"..."} default found; the bench cannot run with the production flags');
    flags = m[1];
  }
  return flags.split(/\s+/).filter(Boolean);
}

const peakRssMiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

/** The same read path for every streaming mode: 64 KiB reads, UTF-8 decoded by the stream's StringDecoder. */
async function* chunks(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { highWaterMark: CHUNK });
  stream.setEncoding('utf8');
  for await (const chunk of stream) yield chunk as string;
}

/** Ours: tokenizer → envelope walker (validation, flat memory) → one canonical document per accepted set. */
async function runOurs(file: string, mode: 'ours' | 'walk' | 'tokenize'): Promise<Counts> {
  let segments = 0;
  let sets = 0;
  let docs = 0;
  let lines = 0;
  let findings = 0;
  const walker = new EnvelopeWalker(
    {
      onSet: (set, group, ic) => {
        sets++;
        findings += set.findings.length;
        if (mode !== 'ours' || !set.accepted) return;
        // The same envelope facts the connector passes (x12.connector.ts); the document is dropped at once.
        const doc = buildDocument(set, {
          group: { version: group.version, controlNumber: group.controlNumber, senderCode: group.senderCode, receiverCode: group.receiverCode, functionalId: group.functionalId },
          interchange: { controlNumber: ic.controlNumber, senderId: ic.senderId, receiverId: ic.receiverId, usage: ic.usage, version: ic.version },
        });
        if (!doc) return;
        docs++;
        if ('lines' in doc) lines += doc.lines.length;
      },
      onGroupEnd: (group) => (findings += group.findings.length),
      onInterchangeEnd: (ic) => (findings += ic.findings.length),
    },
    { keepSegments: false },
  );
  const tokenizer = new X12Tokenizer(
    mode === 'tokenize'
      ? (seg) => {
          segments++;
          if (seg.tag === 'ST') sets++;
        }
      : (seg) => {
          segments++;
          walker.push(seg);
        },
  );
  for await (const chunk of chunks(file)) tokenizer.write(chunk);
  tokenizer.end();
  walker.end();
  findings += walker.orphans.length;
  return mode === 'tokenize' ? { segments, sets } : { segments, sets, docs, lines, findings };
}

/** The practical limit in JS: split each decoded chunk on the terminator, carry the partial segment over. */
async function runSplit(file: string): Promise<Counts> {
  let carry = '';
  let term = '';
  let sep = '';
  let segments = 0;
  let sets = 0;
  let elements = 0;
  for await (const chunk of chunks(file)) {
    const text = carry + chunk;
    // Fixed ISA offsets are good enough for a baseline on our own generated file.
    if (!term) [sep, term] = [text[3], text[105]];
    const parts = text.split(term);
    carry = parts.pop()!;
    for (const p of parts) {
      const els = p.split(sep);
      segments++;
      elements += els.length;
      if (els[0] === 'ST' || els[0] === '\nST') sets++;
    }
  }
  if (carry.trim()) segments++;
  // Elements are summed so the split results are used and cannot be optimized away.
  return { segments: segments + (elements < 0 ? 1 : 0), sets };
}

/** node-x12 1.7.1's documented path: read the whole file, parse() it strictly into its object model. */
function runNodeX12(file: string): Counts {
  const parsed = new X12Parser(true).parse(readFileSync(file, 'utf8'));
  const ics: NodeX12Interchange[] = parsed instanceof X12FatInterchange ? parsed.interchanges : [parsed as NodeX12Interchange];
  let segments = 0;
  let sets = 0;
  for (const ic of ics) {
    segments += 2;
    for (const g of ic.functionalGroups) {
      segments += 2;
      for (const t of g.transactions) {
        sets++;
        segments += t.segments.length + 2;
      }
    }
  }
  return { segments, sets };
}

async function worker(mode: Mode, file: string): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const r = mode === 'split' ? await runSplit(file) : mode === 'nodex12' ? runNodeX12(file) : await runOurs(file, mode);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const out: WorkerResult = { mode, bytes: statSync(file).size, seconds, cpuSeconds: (used.user + used.system) / 1e6, ...r, peakRssMiB: peakRssMiB() };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Runs one measurement in a fresh node; a timeout or crash becomes a result with `error`, not a failed bench. */
function measure(mode: Mode, file: string, timeoutS: number, heapMiB?: number): Promise<WorkerResult> {
  const hub = mode === 'ours' || mode === 'walk' || mode === 'tokenize' ? hubNodeFlags() : [];
  const args = [...hub, ...(heapMiB ? [`--max-old-space-size=${heapMiB}`] : []), SELF, '--worker', mode, file];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) return resolve({ ...(JSON.parse(line) as WorkerResult), load1: load() });
      const why = signal === 'SIGKILL' ? `killed after the ${timeoutS} s timeout` : `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ mode, bytes: statSync(file).size, seconds: NaN, cpuSeconds: NaN, segments: 0, sets: 0, peakRssMiB: NaN, load1: load(), error: why });
    });
  });
}

interface Row {
  label: string;
  /** The median run (by wall MiB/s), with the worst peak RSS of all runs. */
  r: WorkerResult;
  mibs: number;
  /** MiB per CPU second: the cost, far less sensitive than wall time to other load on the machine. */
  cpuMibs: number;
  setsPerS: number;
  /** Wall MiB/s of every run, for the spread. */
  all: number[];
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const load = () => os.loadavg()[0];

function row(label: string, runs: WorkerResult[]): Row {
  const ok = runs.filter((r) => !r.error);
  const all = ok.map((r) => r.bytes / MIB / r.seconds);
  const mid = ok.length ? ok.find((r) => r.bytes / MIB / r.seconds === median(all))! : runs[0];
  const r = { ...mid, peakRssMiB: Math.max(...runs.map((x) => x.peakRssMiB)) };
  const cpu = ok.map((x) => x.bytes / MIB / x.cpuSeconds);
  return { label, r, all, mibs: r.error ? NaN : r.bytes / MIB / r.seconds, cpuMibs: cpu.length ? median(cpu) : NaN, setsPerS: r.error ? NaN : r.sets / r.seconds };
}

function flags(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of argv) {
    const x = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!x) throw new Error(`unknown argument ${a}; see the comment at the top of bench/x12-ingestion.bench.ts`);
    m.set(x[1], x[2] ?? 'true');
  }
  return m;
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const num = (k: string, d: number) => (f.has(k) ? Number(f.get(k)) : d);
  const o = {
    mb: num('mb', 100), streamMb: num('stream-mb', 200), singleMb: num('single-mb', 20), runs: Math.max(1, num('runs', 3)),
    x12Mb: (f.get('x12-mb') ?? '20,100').split(',').map(Number).filter((n) => n > 0), timeout: num('timeout', 900), newlines: f.has('newlines'),
  };
  const fingerprint = codeFingerprint();
  const dir = mkdtempSync(path.join(f.get('dir') ?? os.tmpdir(), 'x12-bench-'));
  const gen = (name: string, mb: number, singleSet = false) => {
    const t = performance.now();
    const g = generate856(path.join(dir, name), { mb, singleSet, newlines: o.newlines });
    console.error(`generated ${name}: ${(g.bytes / 1e6).toFixed(1)} MB, ${g.sets} sets, ${g.segments} segments, ${g.items} items in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return g;
  };
  console.error(`x12 bench: ${JSON.stringify(o)} in ${dir}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; our modes run with the hub's node flags [${hubNodeFlags().join(' ')}]`);
  const primary = gen(`856-${o.mb}mb.x12`, o.mb);
  // node-x12 sizes; the main file is reused (not regenerated, ours not re-run) when a size equals --mb.
  const small = o.x12Mb.map((mb) => (mb === o.mb ? primary : gen(`856-${mb}mb.x12`, mb)));
  const big = o.streamMb > 0 ? gen(`856-${o.streamMb}mb.x12`, o.streamMb) : undefined;
  const single = o.singleMb > 0 ? gen(`856-single-${o.singleMb}mb.x12`, o.singleMb, true) : undefined;

  const rows: Row[] = [];
  // Runs are interleaved (ours, split, ours, split...) so a burst of load from elsewhere hits both sides.
  const series = async (label: string, file: string, modes: Mode[], runs: number) => {
    const got = new Map<Mode, WorkerResult[]>(modes.map((m) => [m, []]));
    for (let i = 0; i < runs; i++) for (const m of modes) got.get(m)!.push(await measure(m, file, o.timeout));
    for (const m of modes) rows.push(row(`${label} ${m}`, got.get(m)!));
    for (const m of modes) console.error(`  ${label} ${m}: ${got.get(m)!.map((r) => r.error ?? `${f1(r.bytes / MIB / r.seconds)} MiB/s (${f1(r.bytes / MIB / r.cpuSeconds)}/cpu-s)`).join(', ')}`);
  };
  await series(`${o.mb}MB`, primary.path, ['ours', 'split', 'walk', 'tokenize'], o.runs);
  for (const s of small) {
    if (s !== primary) await series(`${Math.round(s.bytes / 1e6)}MB`, s.path, ['ours', 'split'], o.runs);
    // One run: node-x12 takes minutes and GBs; the heap is raised so that it is measured, not killed at 4 GB.
    const r = await measure('nodex12', s.path, o.timeout, 20 * 1024);
    rows.push(row(`${Math.round(s.bytes / 1e6)}MB nodex12`, [r]));
    console.error(`  node-x12 ${Math.round(s.bytes / 1e6)}MB: ${r.error ?? `${f1(r.bytes / MIB / r.seconds)} MiB/s, ${f1(r.peakRssMiB)} MiB RSS`}`);
  }
  if (big) await series(`${o.streamMb}MB-stream`, big.path, ['ours'], 1);
  // A single set is held until its SE by design (the document needs all of it): measured, not expected flat.
  if (single) {
    const r = await measure('ours', single.path, o.timeout, 20 * 1024);
    rows.push(row(`${o.singleMb}MB-single-set ours`, [r]));
  }

  const get = (label: string) => rows.find((x) => x.label === label)!;
  const ratio = (a: Row, b: Row) => ({ wall: a.mibs / b.mibs, cpu: a.cpuMibs / b.cpuMibs });
  const oursMain = get(`${o.mb}MB ours`);
  const splitMain = get(`${o.mb}MB split`);
  const stream = big && get(`${o.streamMb}MB-stream ours`);
  const goals = {
    // Same file size on both sides: node-x12's cost per MB grows with the file (its object model).
    vsNodeX12: small.map((s) => {
      const l = `${Math.round(s.bytes / 1e6)}MB`;
      const x = ratio(get(`${l} ours`), get(`${l} nodex12`));
      return { sizeMB: Math.round(s.bytes / 1e6), ...x, goal: 10, met: x.wall >= 10 };
    }),
    vsSplit: { sizeMB: o.mb, ...ratio(oursMain, splitMain), goal: 0.5, met: oursMain.mibs / splitMain.mibs >= 0.5 },
    stream: stream && { sizeMB: o.streamMb, peakRssMB: (stream.r.peakRssMiB * MIB) / 1e6, goalMB: 300, met: (stream.r.peakRssMiB * MIB) / 1e6 < 300 },
    // Flat memory: the streamed file's peak RSS against the main file's (our worst run of each).
    flat: stream && { fromMB: o.mb, toMB: o.streamMb, peakRssMiB: [oursMain.r.peakRssMiB, stream.r.peakRssMiB], growthMiB: stream.r.peakRssMiB - oursMain.r.peakRssMiB },
  };
  const checks = {
    zeroFindings: rows.every((x) => (x.r.findings ?? 0) === 0),
    allSetsBecameDocs: rows.every((x) => x.r.mode !== 'ours' || x.r.docs === x.r.sets),
    segmentsAgree: oursMain.r.segments === splitMain.r.segments && oursMain.r.segments === primary.segments,
    linesAgree: oursMain.r.lines === primary.items,
    sameCodeThroughout: codeFingerprint() === fingerprint,
  };

  console.log(`\nX12 ingestion (issue 3), node ${process.version}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load ${os.loadavg().map(f1).join(' ')}`);
  console.log(`our modes ran with the hub's node flags: [${hubNodeFlags().join(' ')}]; the baselines with none (node-x12: its heap limit only)`);
  const head = ['MiB', 'MiB/s', 'MiB/cpu-s', 'runs MiB/s', 'sets/s', 'segments', 'sets', 'peak RSS MiB', 'load'];
  const widths = [7, 7, 9, 18, 8, 9, 7, 12, 5];
  console.log(`${'case / mode'.padEnd(28)} ${head.map((h, i) => h.padStart(widths[i])).join(' ')}`);
  for (const x of rows) {
    const cells = [(x.r.bytes / MIB).toFixed(1), f1(x.mibs), f1(x.cpuMibs), x.all.length > 1 ? x.all.map(f1).join('/') : '', String(Math.round(x.setsPerS || 0)), String(x.r.segments), String(x.r.sets), f1(x.r.peakRssMiB), f1(x.r.load1 ?? NaN)];
    console.log(`${x.label.padEnd(28)} ${cells.map((c, i) => c.padStart(widths[i])).join(' ')}${x.r.error ? `  ERROR ${x.r.error}` : ''}`);
  }
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  for (const v of goals.vsNodeX12) console.log(`ours ÷ node-x12 at ${v.sizeMB} MB: ${f1(v.wall)}x wall, ${f1(v.cpu)}x CPU (goal ≥ 10x): ${verdict(v.met)}`);
  const vs = goals.vsSplit;
  console.log(`ours ÷ bare split at ${vs.sizeMB} MB: ${vs.wall.toFixed(2)} wall, ${vs.cpu.toFixed(2)} CPU (goal ≥ 0.5): ${verdict(vs.met)}`);
  if (goals.stream) console.log(`${o.streamMb} MB streamed: peak RSS ${f1(goals.stream.peakRssMB)} MB (goal < 300 MB): ${verdict(goals.stream.met)}`);
  if (goals.flat) console.log(`memory: peak RSS ${f1(goals.flat.peakRssMiB[0])} MiB at ${o.mb} MB, ${f1(goals.flat.peakRssMiB[1])} MiB at ${o.streamMb} MB (${goals.flat.growthMiB >= 0 ? '+' : ''}${f1(goals.flat.growthMiB)} MiB)`);
  console.log(`checks: ${JSON.stringify(checks)}${checks.sameCodeThroughout ? '' : '  WARNING: dist/ was rebuilt during the run; rows may mix code versions'}`);
  const json = { bench: 'x12-ingestion', date: new Date().toISOString(), code: fingerprint, node: process.version, hubNodeFlags: hubNodeFlags(), cpus: os.cpus().length, options: o, goals, checks, rows: rows.map((x) => ({ label: x.label, mibs: x.mibs, cpuMibs: x.cpuMibs, setsPerS: x.setsPerS, runs: x.all, ...x.r })) };
  console.log(JSON.stringify(json));
  if (f.has('keep')) console.error(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3] as Mode, process.argv[4]);
} else {
  await main();
}
