import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type HubConfig } from '../../src/config/hub-config.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/observability/hub-logger.js';
import { sign, signingKey } from '../../connectors/wms-webhook/standard-webhooks.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_KEY = `ehk_test_admin_${'x'.repeat(24)}`;

/** An isolated hub world: its own PostgreSQL schema, Redis key prefix and connector declarations. */
export interface TestWorld {
  schema: string;
  prefix: string;
  secret: string;
  connectorsDir: string;
  env: Record<string, string>;
  db: pg.Pool;
  drop(): Promise<void>;
}

export function newWorld(extraEnv: Record<string, string> = {}): TestWorld {
  const tag = `t_${randomBytes(5).toString('hex')}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const connectorsDir = mkdtempSync(path.join(tmpdir(), 'hub-connectors-'));
  writeFileSync(
    path.join(connectorsDir, 'test-wms.json'),
    JSON.stringify({
      id: 'test-wms',
      type: 'wms-webhook',
      name: 'Test WMS',
      config: { system: 'test-wms', mapping: 'wms-webhook' },
      secrets: { signingSecret: secret },
    }),
  );
  const env: Record<string, string> = {
    DATABASE_URL,
    REDIS_URL,
    HUB_DB_SCHEMA: tag,
    HUB_KEY_PREFIX: tag,
    HUB_MASTER_KEY: 'test-master-key-0123456789abcdef-0123456789',
    HUB_ADMIN_KEY: ADMIN_KEY,
    HUB_CONNECTORS_DIR: connectorsDir,
    HUB_MAPPINGS_DIR: path.resolve('mappings'),
    HUB_POLICIES_DIR: path.resolve('policies'),
    HUB_MIGRATE_ON_START: 'true',
    HUB_LOG_LEVEL: process.env.TEST_HUB_LOG_LEVEL ?? 'silent',
    HUB_DOCS: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    HUB_SWEEP_INTERVAL_MS: '500',
    ...extraEnv,
  };
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 3, options: `-c search_path=${tag}` });
  return {
    schema: tag,
    prefix: tag,
    secret,
    connectorsDir,
    env,
    db,
    async drop() {
      await db.query(`DROP SCHEMA IF EXISTS "${tag}" CASCADE`).catch(() => undefined);
      await db.end();
      await deleteRedisPrefix(tag);
    },
  };
}

export function configFor(world: TestWorld, extra: Record<string, string> = {}): HubConfig {
  return loadConfig({ ...world.env, ...extra });
}

/** Starts the hub in this process (all roles unless told otherwise). */
export async function startInProcess(world: TestWorld, extra: Record<string, string> = {}): Promise<RunningHub & { url: string }> {
  const cfg = configFor(world, extra);
  const hub = await startHub(cfg, createLogger(cfg.logLevel));
  return hub as RunningHub & { url: string };
}

/** Starts the built hub (dist/) as a child process, for kill and multi-process tests. */
export function spawnHub(world: TestWorld, extra: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['dist/src/main.js', 'start'], {
    env: { PATH: process.env.PATH ?? '', ...world.env, HUB_LOG_LEVEL: 'warn', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export async function waitForHttp(url: string, timeoutMs = 20000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SignedOptions {
  id?: string;
  timestamp?: number;
  secret?: string;
  signature?: string;
  contentType?: string;
}

/** POSTs a body to a webhook connector, signed the Standard Webhooks way unless told otherwise. */
export async function postWebhook(baseUrl: string, world: TestWorld, body: string | Buffer, o: SignedOptions = {}, connectorId = 'test-wms') {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const id = o.id ?? `msg_${randomUUID()}`;
  const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = o.signature ?? `v1,${sign(signingKey(o.secret ?? world.secret), id, ts, buf)}`;
  const res = await fetch(`${baseUrl}/v1/webhooks/${connectorId}`, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signature },
    body: buf,
  });
  return { status: res.status, body: await bodyOf(res), id };
}

export async function api(baseUrl: string, method: string, pathName: string, opts: { key?: string | null; body?: unknown } = {}) {
  const key = opts.key === undefined ? ADMIN_KEY : opts.key;
  const res = await fetch(`${baseUrl}${pathName}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  return { status: res.status, body: await bodyOf(res) };
}

/** The response body as JSON when it is JSON, else as text. */
async function bodyOf(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function pickShortfall(order: string, sku = 'HX-2210', extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type: 'pick.shortfall',
    occurredAt: new Date().toISOString(),
    warehouse: { site: 'RNO1', businessUnit: 'west' },
    order: { number: order, customer: 'C-1007', customerTier: 'priority', currency: 'USD' },
    line: { number: 1, sku, orderedQty: 10, pickedQty: 4, uom: 'EA', unitPrice: 12.5 },
    reason: 'inventory consumed by another order',
    ...extra,
  });
}

async function deleteRedisPrefix(prefix: string) {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
