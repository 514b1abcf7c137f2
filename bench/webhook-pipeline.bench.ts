import path from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { bareLoop, type BareResult } from './lib/bare-loop.js';
import { drive, type Phase } from './lib/drive.js';
import { buildEvents, type BenchEvent } from './lib/events.js';
import { CONNECTOR_ID, ROOT, cleanup, freePort, newWorld, productionNodeFlags, spawnHub, stopHub, waitReady, waitWorkers, type HubProcess, type World } from './lib/hub-process.js';
import { coresOf, localPortsTo, machineCores, peakRssMiB, pidsByComm, postgresAuxPids, sampleCpu } from './lib/procfs.js';
import { report, type Checks, type Options } from './lib/report.js';
import { eventLoopDelayMs, stageTotals } from './lib/stats.js';
import { enrichmentCounts, enrichmentReport, startBenchErp } from './lib/erp-enrichment.js';

/**
 * End-to-end webhook pipeline benchmark (issue 2): signed WMS webhooks → accept (202) →
 * queue → parse/map/route → exception + case, against a hub child process, plus a bare
 * BullMQ + pg loop as the baseline. See docs/benchmarks.md for how to read the figures.
 *
 *   npm run bench:pipeline -- [--rate=1000] [--seconds=60] [--concurrency=16] [--mode=single|split]
 *                             [--warmup=2] [--poll-ms=20] [--drain=120] [--quiet-wait=0] [--no-baseline] [--smoke] [--erp]
 * Each flag has an environment twin: BENCH_RATE, BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_MODE, ...
 * HUB_* variables in the environment (HUB_WORKER_CONCURRENCY, HUB_DB_POOL_SIZE, ...) reach the hub.
 */
function options(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}; see the comment at the top of bench/webhook-pipeline.bench.ts`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const smoke = flags.has('smoke') || env.BENCH_SMOKE === '1';
  const get = (flag: string, fallback: number) => {
    const raw = flags.get(flag) ?? env[`BENCH_${flag.toUpperCase().replace(/-/g, '_')}`];
    const v = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${flag} must be a non-negative number (got ${raw})`);
    return v;
  };
  const mode = flags.get('mode') ?? env.BENCH_MODE ?? 'single';
  if (mode !== 'single' && mode !== 'split') throw new Error(`--mode must be single or split (got ${mode})`);
  return {
    rate: get('rate', smoke ? 200 : 1000),
    seconds: get('seconds', smoke ? 5 : 60),
    concurrency: Math.max(1, get('concurrency', 16)),
    warmupSeconds: get('warmup', smoke ? 1 : 2),
    pollMs: Math.max(1, get('poll-ms', 20)),
    drainSeconds: get('drain', 120),
    seed: get('seed', 42),
    apiSamples: get('api-samples', 20),
    quietWaitSeconds: get('quiet-wait', 0),
    mode,
    baseline: !flags.has('no-baseline') && env.BENCH_BASELINE !== '0',
    erp: flags.has('erp') || env.BENCH_ERP === '1',
    databaseUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    workerConcurrency: Number(env.HUB_WORKER_CONCURRENCY ?? 4),
    dbPoolSize: Number(env.HUB_DB_POOL_SIZE ?? 10),
  };
}

async function startHubs(o: Options, world: World, hubs: HubProcess[]): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  if (o.mode === 'single') {
    hubs.push(spawnHub(world, 'hub', { PORT: String(port), HUB_ROLES: 'api,worker,scheduler' }));
    await waitReady(hubs[0], url);
  } else {
    // The API process migrates first; the worker process starts once the schema exists.
    hubs.push(spawnHub(world, 'api', { PORT: String(port), HUB_ROLES: 'api' }));
    await waitReady(hubs[0], url);
    hubs.push(spawnHub(world, 'worker', { PORT: '0', HUB_ROLES: 'worker,scheduler' }));
    await waitWorkers(world, hubs[1], 1);
  }
  return url;
}

/** PostgreSQL backend pids serving the given client processes (matched by TCP port). */
async function backendsOf(db: pg.Pool, o: Options, pids: number[]): Promise<number[]> {
  const ports = localPortsTo(pids, Number(new URL(o.databaseUrl).port || 5432));
  const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])`, [ports]);
  return rows.map((r) => r.pid);
}

const metricsText = (url: string) => fetch(`${url}/metrics`).then((r) => r.text());

async function countChecks(db: pg.Pool, events: BenchEvent[], phases: Phase[], eventIndex: Map<string, number>): Promise<Checks> {
  const ids = phases.flatMap((p) => p.ids);
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM inbound_messages)::int AS messages,
            (SELECT count(*) FROM inbound_messages WHERE status <> 'routed')::int AS not_routed,
            (SELECT count(*) FROM exceptions)::int AS exceptions,
            (SELECT count(DISTINCT message_id) FROM exceptions)::int AS messages_with_exception,
            (SELECT count(DISTINCT message_id) FROM exceptions WHERE message_id = ANY($1::uuid[]))::int AS accepted_with_exception,
            (SELECT count(*) FROM exceptions WHERE case_id IS NULL)::int AS without_case,
            (SELECT count(*) FROM cases)::int AS cases,
            (SELECT coalesce(sum(exception_count), 0) FROM cases)::int AS case_exception_sum`,
    [ids],
  );
  const r = rows[0];
  // Which cases the traffic should produce: one per distinct correlation key among accepted events.
  const { rows: sent } = await db.query<{ id: string; sender_event_id: string }>(`SELECT id, sender_event_id FROM inbound_messages`);
  const keys = new Set(sent.map((s) => events[eventIndex.get(s.sender_event_id)!]?.key));
  const duplicates200 = phases.reduce((n, p) => n + (p.statuses['200'] ?? 0), 0);
  const checks: Checks = {
    accepted: ids.length,
    messages: r.messages,
    notRouted: r.not_routed,
    exceptions: r.exceptions,
    duplicateExceptions: r.exceptions - r.messages_with_exception,
    acceptedWithException: r.accepted_with_exception,
    withoutCase: r.without_case,
    cases: r.cases,
    expectedCases: keys.size,
    caseExceptionSum: r.case_exception_sum,
    duplicates200,
    ok: false,
  };
  checks.ok =
    checks.messages === checks.accepted &&
    checks.exceptions === checks.accepted &&
    checks.acceptedWithException === checks.accepted &&
    checks.duplicateExceptions === 0 &&
    checks.withoutCase === 0 &&
    checks.notRouted === 0 &&
    checks.cases === checks.expectedCases &&
    checks.caseExceptionSum === checks.exceptions &&
    duplicates200 === 0;
  return checks;
}

/**
 * Cross-checks the poller's timing with what the API reports for a few messages: the hub's
 * received_at must precede our 202, its processed_at (start of the pipeline transaction) must
 * precede the poll that first saw the case, and the message must show one exception with a case.
 */
async function apiSample(url: string, world: World, ph: Phase, n: number) {
  const wall = (t: number) => performance.timeOrigin + t;
  let consistent = 0;
  const gaps: number[] = [];
  const step = Math.max(1, Math.floor(ph.ids.length / Math.max(1, n)));
  const picks = ph.ids.map((id, i) => ({ id, i })).filter((_, k) => k % step === 0).slice(0, n);
  for (const { id, i } of picks) {
    const res = await fetch(`${url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${world.adminKey}` } });
    const m = (await res.json()) as { status: string; receivedAt: string; processedAt: string; exceptions: { caseId: string | null }[] };
    const seen = ph.visibleAt.get(id);
    const ok =
      res.status === 200 &&
      m.status === 'routed' &&
      m.exceptions.length === 1 &&
      !!m.exceptions[0].caseId &&
      seen !== undefined &&
      Date.parse(m.receivedAt) <= wall(ph.acceptedAt[i]) + 1 &&
      Date.parse(m.processedAt) <= wall(seen) + 1;
    if (ok) {
      consistent++;
      gaps.push(wall(seen!) - Date.parse(m.processedAt));
    }
  }
  return { sampled: picks.length, consistent, meanPollGapMs: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length) };
}

async function main() {
  const o = options(process.argv.slice(2), process.env);
  const world = newWorld(o.databaseUrl, o.redisUrl);
  const hubs: HubProcess[] = [];
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: stopping the hub and cleaning up (Ctrl-C again to abandon)');
    void Promise.all(hubs.map(stopHub)).then(() => cleanup(world)).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const warmN = Math.round(o.rate * o.warmupSeconds);
  const n = Math.round(o.rate * o.seconds);
  console.error(`bench ${world.tag}: ${o.mode} mode, warm-up ${warmN} + ${n} events at ${o.rate}/s, ${o.concurrency} connections, hub node flags: ${process.env.BENCH_HUB_NODE_ARGS ?? productionNodeFlags()}`);
  const events = buildEvents(warmN + n, world.tag, o.seed, path.join(ROOT, 'samples/wms'));
  const eventIndex = new Map(events.map((e, i) => [e.id, i]));
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 2, options: `-c search_path=${world.tag}` });
  let bare: BareResult | undefined;
  let problems: string[] = [];
  // Other work on the machine (test suites share these 2 cores) skews every figure: measure it,
  // optionally wait up to --quiet-wait seconds for 3 quiet seconds in a row, and say so up front.
  let backgroundCores = Infinity;
  for (let quiet = 0, until = Date.now() + o.quietWaitSeconds * 1000; quiet < 3; ) {
    const idle0 = sampleCpu();
    await new Promise((r) => setTimeout(r, 1000));
    backgroundCores = machineCores(idle0, sampleCpu());
    quiet = backgroundCores <= 0.25 ? quiet + 1 : 0;
    if (Date.now() >= until) break;
  }
  if (backgroundCores > 0.25) console.error(`warning: ${backgroundCores.toFixed(2)} cores already busy before the run; figures will be pessimistic`);
  const erp = o.erp ? await startBenchErp(world, events) : undefined;
  try {
    const url = await startHubs(o, world, hubs);
    const http = new Pool(url, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
    const dOpts = { path: `/v1/webhooks/${CONNECTOR_ID}`, rate: o.rate, concurrency: o.concurrency, pollMs: o.pollMs, drainMs: o.drainSeconds * 1000, secret: world.secret };
    // Warm-up: JIT, connection pools and prepared plans; counted in the checks, not in the figures.
    const warm = await drive(http, db, events, 0, warmN, dOpts);
    const textBefore = await metricsText(url);
    const metricsBefore = stageTotals(textBefore);
    const erpRequests0 = erp?.sim.requests() ?? 0;
    const hubBackends0 = await backendsOf(db, o, hubs.map((h) => h.pid));
    const cpu0 = sampleCpu();
    console.error(`warm-up done (${warm.ids.length} accepted); measuring ${o.seconds} s ...`);
    const ph = await drive(http, db, events, warmN, warmN + n, dOpts);
    const cpu1 = sampleCpu();
    // Per process group; PostgreSQL counts the backends serving the hub plus its own writers,
    // the bench's poller backend counts as bench. "other" in the report is everything else.
    const hubBackends = [...hubBackends0, ...(await backendsOf(db, o, hubs.map((h) => h.pid)))];
    const cpu: Record<string, number> = {
      ...Object.fromEntries(hubs.map((h) => [h.name, coresOf(cpu0, cpu1, [h.pid])])),
      postgres: coresOf(cpu0, cpu1, [...hubBackends, ...postgresAuxPids()]),
      'redis-server': coresOf(cpu0, cpu1, pidsByComm('redis-server')),
      bench: coresOf(cpu0, cpu1, [process.pid, ...(await backendsOf(db, o, [process.pid]))]),
      machine: machineCores(cpu0, cpu1),
    };
    const textAfter = await metricsText(url);
    const metricsAfter = stageTotals(textAfter);
    const enrichment = erp ? enrichmentReport(enrichmentCounts(textBefore), enrichmentCounts(textAfter), erp.sim.requests() - erpRequests0) : undefined;
    const rss = Object.fromEntries(hubs.map((h) => [h.name, peakRssMiB(h.pid)]));
    const checks = await countChecks(db, events, [warm, ph], eventIndex);
    const api = await apiSample(url, world, ph, o.apiSamples);
    // Messages of one accept commit share enqueued_at, those of one pipeline transaction share
    // processed_at (both are now(), the transaction's start): that gives the batch sizes.
    const { rows: [batches] } = await db.query<{ accept: number; pipeline: number }>(
      `SELECT count(*)::float / count(DISTINCT enqueued_at) AS accept, count(*)::float / count(DISTINCT processed_at) AS pipeline
         FROM inbound_messages WHERE id = ANY($1::uuid[])`,
      [ph.ids],
    );
    const { rows: server } = await db.query<{ ms: number }>(
      `SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM inbound_messages WHERE id = ANY($1::uuid[]) AND processed_at IS NOT NULL`,
      [ph.ids],
    );
    await http.close();
    const hubLines = hubs.map((h) => ({ name: h.name, lines: h.lines(), tail: h.output().slice(-2000) }));
    await Promise.all(hubs.map(stopHub));
    if (o.baseline) {
      console.error(`bare loop: ${n} BullMQ jobs, one INSERT each ...`);
      const b0 = sampleCpu();
      bare = await bareLoop(world, events.slice(warmN), { producers: o.concurrency, workerConcurrency: o.workerConcurrency, poolSize: o.dbPoolSize });
      bare.machineCores = machineCores(b0, sampleCpu());
    }
    for (const h of hubLines) if (h.lines) console.error(`\n${h.name} logged ${h.lines} line(s) at warn+; last ones:\n${h.tail}`);
    report({ o, ph, checks, api, serverMs: server.map((s) => Number(s.ms)), rss, cpu, stages: { before: metricsBefore, after: metricsAfter }, bare, backgroundCores, batches, loopMs: eventLoopDelayMs(textAfter) });
    if (enrichment) {
      console.log(`\nERP enrichment lookups (measured phase):${enrichment.text}`);
      console.log(JSON.stringify({ bench: 'webhook-pipeline-erp-enrichment', lookups: enrichment.rows }));
    }
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all(hubs.map(stopHub));
    await erp?.stop();
    problems = await cleanup(world);
    if (problems.length) console.error(`cleanup problems:\n  ${problems.join('\n  ')}`);
  }
}

main().catch((e) => {
  console.error(`bench:pipeline failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
