import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Repository root, found from this file's place in dist/bench/lib so the bench runs from any cwd. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const CONNECTOR_ID = 'bench-wms';

/** One benchmark run's private world: its own schema, Redis prefix, connector declaration and keys. */
export interface World {
  tag: string;
  secret: string;
  adminKey: string;
  databaseUrl: string;
  redisUrl: string;
  connectorsDir: string;
  env: Record<string, string>;
}

export function newWorld(databaseUrl: string, redisUrl: string): World {
  const tag = `bench_${randomBytes(5).toString('hex')}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const adminKey = `ehk_bench_${randomBytes(18).toString('base64url')}`;
  const connectorsDir = mkdtempSync(path.join(tmpdir(), 'hub-bench-connectors-'));
  // The secret goes through {"$env": ...} so it never sits in a file, even a temporary one.
  writeFileSync(
    path.join(connectorsDir, `${CONNECTOR_ID}.json`),
    JSON.stringify({
      id: CONNECTOR_ID,
      type: 'wms-webhook',
      name: 'Benchmark WMS',
      config: { system: CONNECTOR_ID, mapping: 'wms-webhook', toleranceSeconds: 300 },
      secrets: { signingSecret: { $env: 'BENCH_WMS_SECRET' } },
    }),
  );
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    HUB_DB_SCHEMA: tag,
    HUB_KEY_PREFIX: tag,
    HUB_MIGRATE_ON_START: 'true',
    HUB_CONNECTORS_DIR: connectorsDir,
    HUB_MAPPINGS_DIR: path.join(ROOT, 'mappings'),
    // BENCH_POLICIES_DIR: run against another policy set (e.g. to measure what SLA clocks cost).
    HUB_POLICIES_DIR: process.env.BENCH_POLICIES_DIR ?? path.join(ROOT, 'policies'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_ADMIN_KEY: adminKey,
    HUB_LOG_LEVEL: 'warn',
    HUB_DOCS: 'false',
    HOST: '127.0.0.1',
    BENCH_WMS_SECRET: secret,
  };
  return { tag, secret, adminKey, databaseUrl, redisUrl, connectorsDir, env };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface HubProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** Last ~16 KB of the child's stdout+stderr (warn level and above). */
  output(): string;
  lines(): number;
}

/**
 * Starts `node dist/src/main.js start`. The caller's HUB_* settings pass through; the world's win.
 * The hub runs with the Node flags production starts it with (scripts/start-hub.sh's HUB_NODE_FLAGS
 * default); BENCH_HUB_NODE_ARGS replaces them ("" for plain node). (For --cpu-prof also preload a module that
 * exits normally on the second SIGTERM: Nest re-raises SIGTERM after closing, and a process killed by a
 * signal writes no profile.)
 */
/** The flags scripts/start-hub.sh gives node unless HUB_NODE_FLAGS is set. */
export function productionNodeFlags(): string {
  return /HUB_NODE_FLAGS-"([^"]*)"/.exec(readFileSync(path.join(ROOT, 'scripts/start-hub.sh'), 'utf8'))?.[1] ?? '';
}

export function spawnHub(world: World, name: string, extra: Record<string, string>): HubProcess {
  const nodeArgs = (process.env.BENCH_HUB_NODE_ARGS ?? productionNodeFlags()).split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/src/main.js'), 'start'], {
    cwd: ROOT,
    env: { ...process.env, ...world.env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let lines = 0;
  const keep = (d: Buffer) => {
    const s = d.toString();
    lines += s.split('\n').length - 1;
    out = (out + s).slice(-16_384);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, pid: child.pid!, exited, output: () => out, lines: () => lines };
}

/** Waits for the process's readiness probe; fails fast with its output if it exits instead. */
export async function waitReady(p: HubProcess, url: string, timeoutMs = 60_000): Promise<void> {
  let dead = false;
  void p.exited.then(() => (dead = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !dead) {
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${p.name} did not become ready (${dead ? 'exited' : 'timeout'}):\n${p.output()}`);
}

/** A worker-only process has no HTTP port: it is ready once its BullMQ worker registers in Redis. */
export async function waitWorkers(world: World, p: HubProcess, count: number, timeoutMs = 60_000): Promise<void> {
  const q = new Queue('pipeline', { connection: redisOptions(world.redisUrl), prefix: world.tag });
  try {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && p.child.exitCode === null) {
      if ((await q.getWorkersCount()) >= count) return;
      await sleep(200);
    }
    throw new Error(`${p.name}: pipeline worker did not register:\n${p.output()}`);
  } finally {
    await q.close();
  }
}

/** SIGTERM (the hub drains its worker and closes), SIGKILL if it has not exited after 15 s. */
export async function stopHub(p: HubProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

export function redisOptions(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

/** Drops the bench schema, the Redis keys under the bench prefix and the temporary connector folder. */
export async function cleanup(world: World): Promise<string[]> {
  const problems: string[] = [];
  const db = new pg.Client({ connectionString: world.databaseUrl });
  try {
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${world.tag}" CASCADE`);
  } catch (e) {
    problems.push(`drop schema ${world.tag}: ${(e as Error).message}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  const r = new Redis({ ...redisOptions(world.redisUrl), lazyConnect: true });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${world.tag}:*`, 'COUNT', 1000);
      if (keys.length) await r.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (e) {
    problems.push(`delete redis keys ${world.tag}:*: ${(e as Error).message}`);
  } finally {
    r.disconnect();
  }
  rmSync(world.connectorsDir, { recursive: true, force: true });
  return problems;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
