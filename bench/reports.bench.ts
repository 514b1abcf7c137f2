import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { createDataSource, migrate } from '../src/database/data-source.js';
import { loadConfig } from '../src/config/hub-config.js';
import { startHub } from '../src/hub.js';
import { createLogger } from '../src/observability/hub-logger.js';
import { seedReports } from '../scripts/seed-reports.js';

/**
 * Reporting benchmark (issue 9): seeds 1M exceptions once (kept between runs in its own database;
 * migrations added since are applied to the kept data set, so their backfill is timed too), then times every report over HTTP against an in-process hub, for the last 30 days and the whole
 * year, and the dashboard's first load in headless Chromium. Baseline in the same run: the same
 * volume figures computed straight from the exceptions table (what the rollups avoid).
 *
 *   npm run bench:reports -- [--exceptions 1000000] [--samples 40] [--reseed]
 *   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hub_bench_reports), BENCH_REDIS_URL
 */
const { values: o } = parseArgs({ options: { exceptions: { type: 'string', default: '1000000' }, samples: { type: 'string', default: '40' }, reseed: { type: 'boolean', default: false } } });
const N = Number(o.exceptions);
const SAMPLES = Number(o.samples);
const DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hub_bench_reports';
const SCHEMA = 'bench_reports';
const ADMIN = `ehk_bench_admin_${'y'.repeat(24)}`;
/** 1-minute load average: the machine is shared, so every figure is printed with it. */
const load = () => os.loadavg()[0].toFixed(1);

async function ensureDatabase() {
  const u = new URL(DB);
  const name = u.pathname.slice(1);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  if (!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

async function ensureSeeded() {
  const db = new pg.Pool({ connectionString: DB, max: 1, options: `-c search_path=${SCHEMA}` });
  try {
    const have = await db.query(`SELECT count(*)::int AS n FROM exceptions`).then((r) => r.rows[0].n as number).catch(() => -1);
    if (!o.reseed && have >= N * 0.99) {
      console.log(`data set present: ${have} exceptions`);
      const ds = createDataSource({ databaseUrl: DB, dbSchema: SCHEMA, dbPoolSize: 1 });
      await ds.initialize();
      const t = Date.now();
      const applied = await migrate(ds, SCHEMA).finally(() => ds.destroy());
      if (applied.length) console.log(`migrated the data set: ${applied.join(', ')} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return;
    }
    await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    const ds = createDataSource({ databaseUrl: DB, dbSchema: SCHEMA, dbPoolSize: 1 });
    await ds.initialize();
    await migrate(ds, SCHEMA);
    await ds.destroy();
    const t = Date.now();
    const counts = await seedReports(db, { exceptions: N, log: (l) => console.log(`  seed ${l}`) });
    console.log(`seeded ${JSON.stringify(counts)} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  } finally {
    await db.end();
  }
}

function pct(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

async function time(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function main() {
  await ensureDatabase();
  await ensureSeeded();
  const cfg = loadConfig({
    DATABASE_URL: DB, REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', HUB_DB_SCHEMA: SCHEMA, HUB_KEY_PREFIX: 'bench_reports',
    HUB_MASTER_KEY: 'bench-master-key-0123456789abcdef-0123456789', HUB_ADMIN_KEY: ADMIN, HUB_ROLES: 'api', HUB_LOG_LEVEL: 'warn', HUB_DOCS: 'false',
    PORT: '0', HOST: '127.0.0.1', HUB_CONNECTORS_DIR: path.resolve('test/fixtures/empty-connectors'), HUB_MAPPINGS_DIR: path.resolve('mappings'),
    HUB_POLICIES_DIR: path.resolve('policies'),
  });
  const hub = await startHub(cfg, createLogger('warn'));
  const url = hub.url!;
  const now = new Date();
  const ranges = { '30 d': new Date(now.getTime() - 30 * 86400e3), '365 d': new Date(now.getTime() - 365 * 86400e3) };
  const reports: [string, string][] = [
    ['headline', ''], ['volume', 'bucket=day&groupBy=category'], ['volume (week, Chicago, by site)', 'bucket=week&tz=America/Chicago&groupBy=site'],
    ['aging', 'groupBy=team'], ['cycle-times', 'groupBy=team'], ['sla', 'groupBy=team'], ['repeats', 'groupBy=code,site'], ['pareto', 'groupBy=supplier'],
    ['connectors', 'bucket=day'], ['business-units', ''], ['touches', ''], ['amount-at-risk', 'groupBy=site'], ['invoice-delay', ''],
    ['scorecards', ''], ['upstream-causes', ''], ['critical-cases', ''], ['headline (site=RNO1, team=warehouse-ops)', 'site=RNO1&team=warehouse-ops'],
  ];
  const rows: string[] = [];
  try {
    for (const [label, q] of reports) {
      const name = label.split(' ')[0];
      const cells: string[] = [];
      const load0 = load();
      for (const [range, from0] of Object.entries(ranges)) {
        // Buckets in another zone come from hourly rollups, which serve up to 92 days: the long run uses 90.
        const from = label.includes('Chicago') && range === '365 d' ? new Date(now.getTime() - 90 * 86400e3) : from0;
        const qs = `${q ? q + '&' : ''}from=${from.toISOString()}&to=${now.toISOString()}`;
        const ms = await time(async () => {
          const r = await fetch(`${url}/v1/reports/${name}?${qs}`, { headers: { authorization: `Bearer ${ADMIN}` } });
          if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${await r.text()}`);
          await r.arrayBuffer();
        }, SAMPLES);
        cells.push(`${pct(ms, 0.5).toFixed(1)} / **${pct(ms, 0.95).toFixed(1)}**`);
      }
      rows.push(`| ${label} | ${cells.join(' | ')} | ${load0}–${load()} |`);
      console.log(rows[rows.length - 1]);
    }
    // Baseline: the year's daily volume by category straight from the exceptions table.
    const db = new pg.Pool({ connectionString: DB, max: 1, options: `-c search_path=${SCHEMA}` });
    const raw = await time(() => db.query(`SELECT date_trunc('day', detected_at), category, count(*) FROM exceptions WHERE detected_at >= $1 AND NOT test_mode GROUP BY 1, 2`, [ranges['365 d']]), 5);
    const raw30 = await time(() => db.query(`SELECT date_trunc('day', detected_at), category, count(*) FROM exceptions WHERE detected_at >= $1 AND NOT test_mode GROUP BY 1, 2`, [ranges['30 d']]), 5);
    const sizes = await db.query(`SELECT relname, n_live_tup::int AS n FROM pg_stat_user_tables WHERE relname LIKE 'report_%' OR relname IN ('exceptions', 'cases', 'root_cause_links') ORDER BY relname`);
    await db.end();
    rows.push(`| baseline: raw GROUP BY on exceptions (volume by day × category) | ${pct(raw30, 0.5).toFixed(1)} / ${pct(raw30, 0.95).toFixed(1)} | ${pct(raw, 0.5).toFixed(1)} / ${pct(raw, 0.95).toFixed(1)} | ${load()} |`);

    // Dashboard first load: sign-in to every panel drawn, fresh browser context each time.
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const loads: number[] = [];
    for (let i = 0; i < 6; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${url}/dashboard`);
      await page.locator('#api-key').fill(ADMIN);
      const t = performance.now();
      await page.locator('#login-form button').click();
      await page.waitForFunction(() => document.body.dataset.loaded, undefined, { timeout: 60000 });
      if (i > 0) loads.push(performance.now() - t);
      await ctx.close();
    }
    await browser.close();
    console.log('\n| report | 30 d p50 / p95 (ms) | 365 d (Chicago: 90 d) p50 / p95 (ms) | load avg (1 min) |\n|---|---:|---:|---:|\n' + rows.join('\n'));
    console.log(`\ndashboard first load (sign-in → all panels drawn, 30 d), 5 runs: median ${pct(loads, 0.5).toFixed(0)} ms, max ${Math.max(...loads).toFixed(0)} ms`);
    console.log('\nrow counts: ' + sizes.rows.map((r) => `${r.relname} ${r.n}`).join(', '));
  } finally {
    await hub.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
