import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RedisRequestBudget } from './request-budget.js';
import { ErpSimulator } from './simulator/erp-simulator.js';
import { seedSample } from './simulator/sample-data.js';
import { simulatorInstance } from './simulator/test-instances.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORKER = 'dist/connectors/erp-rest/simulator/load-worker.js';

function runWorker(env: Record<string, string>): Promise<{ ok: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER], { env: { PATH: process.env.PATH ?? '', REDIS_URL, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

describe('ERP request budget shared through Redis', () => {
  let sim: ErpSimulator;
  let redis: Redis;
  const prefix = `t_${randomBytes(5).toString('hex')}`;
  beforeAll(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedSample(sim);
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await sim.stop();
  });

  it('two worker processes together stay within requests/s and concurrency', async () => {
    expect(existsSync(WORKER)).toBe(true); // built by `npm test` (npm run build)
    const inst = simulatorInstance(sim, 'odata-v4', 'basic', { budget: { requestsPerSecond: 20, burst: 5, concurrency: 3 } });
    sim.delayMs = 40;
    const env = { LOAD_INSTANCE: JSON.stringify(inst), LOAD_REQUESTS: '30', LOAD_PARALLEL: '10', LOAD_PREFIX: prefix };
    const t0 = Date.now();
    const [a, b] = await Promise.all([runWorker(env), runWorker(env)]);
    const elapsed = Date.now() - t0;
    expect(a.ok + b.ok).toBe(60);
    expect(sim.requests('Customers')).toBe(60);
    // 20 concurrent requests asked for; the ERP never saw more than 3 at once.
    expect(sim.peakInFlight).toBeLessThanOrEqual(3);
    // 60 requests at 20/s after a burst of 5 take at least (60 - 5) / 20 s.
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    const times = sim.log.map((l) => l.at).sort((x, y) => x - y);
    const worstSecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    // Tokens are granted on Redis's clock and counted here on arrival: network and event-loop delay can
    // move a request or two across a window edge, so the receiver-side bound allows 2 beyond rate + burst.
    expect(worstSecond).toBeLessThanOrEqual(20 + 5 + 2);
  });

  it('a slot held by a process that died comes back after its lease', async () => {
    const budget = new RedisRequestBudget(redis, prefix);
    const limits = { requestsPerSecond: 100, concurrency: 1, leaseMs: 1000, maxWaitMs: 5000 };
    await budget.acquire('crashy', limits); // never released
    const t0 = Date.now();
    const lease = await budget.acquire('crashy', limits);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await lease.release();
    await expect(budget.acquire('crashy', { ...limits, maxWaitMs: 50 }).then((l) => l.release())).resolves.toBeUndefined();
    await budget.acquire('crashy', limits);
    await expect(budget.acquire('crashy', { ...limits, maxWaitMs: 100 })).rejects.toThrow('no free slot within 100 ms');
  });
});
