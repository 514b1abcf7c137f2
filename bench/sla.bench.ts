import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { loadConfig } from '../src/config/hub-config.js';
import { startHub } from '../src/hub.js';
import { createLogger } from '../src/observability/hub-logger.js';
import { Router } from '../src/routing/router.service.js';
import { CaseCommitments } from '../src/sla/case-commitments.service.js';
import { SlaClocks } from '../src/sla/sla-clocks.service.js';
import { planClocks, slaFor } from '../src/sla/sla-plan.js';
import { SlaTimers } from '../src/sla/sla-timers.js';

/**
 * SLA timers at scale (issue 5): N open cases with two running clocks each (acknowledge, resolve on
 * the us-central-business calendar of policies/default 1.1.0), one pending BullMQ alarm per clock.
 * Measures the memory this costs (Redis keys of the alarm queue, PostgreSQL table size), the cost of
 * a case change that reschedules (pause → resume; acknowledge), and re-arming everything after the
 * alarm queue is flushed. Baseline: the same number of bare delayed BullMQ jobs.
 *
 *   npm run bench:sla -- [--cases=100000] [--changes=1000]
 * The hub runs in this process with the `api` role only (no worker fires alarms, no scheduler re-arms).
 */
const flag = (name: string, fallback: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : Number(process.env[`BENCH_${name.toUpperCase()}`] ?? fallback);
};
const N = flag('cases', 100_000);
const CHANGES = flag('changes', 1000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tag = `bench_sla_${randomBytes(4).toString('hex')}`;

const ms = (t0: number) => performance.now() - t0;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

async function queueBytes(r: Redis, prefix: string, queue: string, sample = 500): Promise<{ bytes: number; jobs: number }> {
  const zset = `${prefix}:${queue}:delayed`;
  const jobs = await r.zcard(zset);
  const zbytes = Number((await r.call('MEMORY', 'USAGE', zset, 'SAMPLES', '0')) ?? 0);
  const ids = (await r.zrange(zset, 0, sample - 1)) as string[];
  let hashBytes = 0;
  for (const id of ids) hashBytes += Number((await r.call('MEMORY', 'USAGE', `${prefix}:${queue}:${id}`)) ?? 0);
  return { bytes: zbytes + (ids.length ? (hashBytes / ids.length) * jobs : 0), jobs };
}

async function main() {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const r = new Redis(REDIS_URL);
  const cfg = loadConfig({
    DATABASE_URL, REDIS_URL, HUB_DB_SCHEMA: tag, HUB_KEY_PREFIX: tag, HUB_MIGRATE_ON_START: 'true', HUB_ROLES: 'api', PORT: '0', HOST: '127.0.0.1',
    HUB_MASTER_KEY: 'bench-master-key-0123456789abcdef-0123456789', HUB_LOG_LEVEL: 'warn', HUB_DOCS: 'false',
    HUB_POLICIES_DIR: path.resolve('policies'), HUB_MAPPINGS_DIR: path.resolve('mappings'), HUB_CONNECTORS_DIR: mkdtempSync(path.join(tmpdir(), 'bench-sla-connectors-')),
  });
  const hub = await startHub(cfg, createLogger('warn'));
  const cleanup = async () => {
    await hub.close().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${tag}" CASCADE`).catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 5000);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    r.disconnect();
    await admin.end();
  };
  try {
    const ds = hub.app.get<DataSource>(getDataSourceToken());
    const clocks = hub.app.get(SlaClocks);
    const timers = hub.app.get(SlaTimers);
    const commitments = hub.app.get(CaseCommitments);
    const policy = hub.app.get(Router).current();
    const sla = slaFor(policy, 'fulfilment-risk', 'critical')!;
    const cal = clocks.calendar(sla.calendar);
    console.log(`SLA timers benchmark: ${N.toLocaleString()} open cases × ${sla.clocks.length} clocks, calendar ${sla.calendar}; ${CHANGES} case changes`);

    // 1. Clocks in PostgreSQL (due times computed on the business calendar), alarms in Redis.
    const caseIds = Array.from({ length: N }, () => uuidv7());
    const tiers = ['priority', 'strategic', 'standard'];
    let t0 = performance.now();
    let planMs = 0;
    const alarms: Awaited<ReturnType<SlaClocks['start']>> = [];
    for (let i = 0; i < N; i += 1000) {
      const slice = caseIds.slice(i, i + 1000);
      const tp = performance.now();
      const now = clocks.now();
      const items = slice.flatMap((caseId, j) =>
        planClocks(sla, cal, { severity: 'critical', customerTier: tiers[(i + j) % 3], amountAtRisk: ((i + j) * 37) % 20000 }, now).map((plan) => ({ caseId, plan })),
      );
      planMs += ms(tp);
      alarms.push(...(await ds.transaction((m) => clocks.start(m, items, now))));
    }
    const startMs = ms(t0);
    const memBefore = await queueBytes(r, tag, 'sla-timers');
    t0 = performance.now();
    await timers.arm(alarms);
    const armMs = ms(t0);
    const q = await queueBytes(r, tag, 'sla-timers');
    const { rows: size } = await admin.query(`SELECT pg_total_relation_size('"${tag}".sla_clocks') AS total, pg_relation_size('"${tag}".sla_clocks') AS heap, count(*)::int AS n FROM "${tag}".sla_clocks`);

    // 2. Case changes that reschedule: pause (alarms removed) → resume (re-added with the time left); acknowledge (clock stops).
    const sample = Array.from({ length: Math.min(CHANGES, N) }, (_, i) => caseIds[Math.floor((i * N) / Math.min(CHANGES, N))]);
    const change = async (fn: (m: any, id: string) => Promise<any>) => {
      const t = performance.now();
      for (const id of sample) await commitments.settle(await ds.transaction((m) => fn(m, id)));
      return ms(t) / sample.length;
    };
    const pauseMs = await change((m, id) => commitments.paused(m, id));
    const resumeMs = await change((m, id) => commitments.resumed(m, id));
    const ackMs = await change((m, id) => commitments.acknowledged(m, id));

    // 3. Redis flushed: re-arm every running clock from PostgreSQL (what the scheduler does at start).
    const keys = await r.keys(`${tag}:sla-timers:*`);
    for (let i = 0; i < keys.length; i += 5000) await r.del(...keys.slice(i, i + 5000));
    t0 = performance.now();
    const rearmed = await timers.rearm(clocks);
    const rearmMs = ms(t0);

    // 4. Baseline: the same number of bare delayed jobs on a plain BullMQ queue.
    const bare = new Queue('bare-delayed', { connection: { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) }, prefix: tag });
    t0 = performance.now();
    for (let i = 0; i < alarms.length; i += 1000) {
      await bare.addBulk(alarms.slice(i, i + 1000).map((a, j) => ({ name: 'x', data: { clockId: a.clockId, threshold: a.threshold }, opts: { jobId: `b${i + j}`, delay: 3600_000 + j, removeOnComplete: true } })));
    }
    const bareMs = ms(t0);
    const bareMem = await queueBytes(r, tag, 'bare-delayed');
    await bare.close();

    const perJob = (b: number, n: number) => `${(b / Math.max(1, n)).toFixed(0)} B/job`;
    console.log('');
    console.log(`clocks in PostgreSQL         ${size[0].n.toLocaleString()} rows; sla_clocks ${mib(Number(size[0].total))} with indexes (${mib(Number(size[0].heap))} heap), ${(Number(size[0].total) / size[0].n).toFixed(0)} B/clock`);
    console.log(`start clocks                 ${(startMs / 1000).toFixed(1)} s (${((startMs * 1000) / (N * sla.clocks.length)).toFixed(0)} µs/clock; of which due-time planning ${(planMs / 1000).toFixed(1)} s)`);
    console.log(`alarms in Redis              ${q.jobs.toLocaleString()} delayed jobs, ${mib(q.bytes - memBefore.bytes)} (${perJob(q.bytes, q.jobs)}); set in ${(armMs / 1000).toFixed(1)} s (${((armMs * 1000) / q.jobs).toFixed(0)} µs/alarm)`);
    console.log(`bare BullMQ delayed jobs     ${bareMem.jobs.toLocaleString()} jobs, ${mib(bareMem.bytes)} (${perJob(bareMem.bytes, bareMem.jobs)}); added in ${(bareMs / 1000).toFixed(1)} s (${((bareMs * 1000) / bareMem.jobs).toFixed(0)} µs/job)`);
    console.log(`reschedule per case change   pause ${pauseMs.toFixed(2)} ms · resume ${resumeMs.toFixed(2)} ms · acknowledge ${ackMs.toFixed(2)} ms (transaction + alarm removal/add, ${sample.length} cases each, sequential)`);
    console.log(`re-arm after Redis flush     ${rearmed.toLocaleString()} alarms in ${(rearmMs / 1000).toFixed(1)} s (${((rearmMs * 1000) / Math.max(1, rearmed)).toFixed(0)} µs/alarm)`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
