import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface BudgetLimits {
  requestsPerSecond: number;
  burst?: number;
  concurrency: number;
  leaseMs: number;
  maxWaitMs: number;
}

/** A request slot: give it back when the request has finished. */
export interface BudgetLease {
  release(): Promise<void>;
}

export interface RequestBudget {
  acquire(scope: string, limits: BudgetLimits, signal?: AbortSignal): Promise<BudgetLease>;
}

export class BudgetExhausted extends Error {}

/*
 * One atomic step in Redis: drop expired leases (a crashed process's slots come back after
 * leaseMs), refuse when `concurrency` leases are held, else take a token from the bucket
 * (refilled at `rate` per second up to `burst`) and add a lease. Time comes from the Redis
 * server so processes on different hosts agree. Returns {1, 0} granted, or {0, waitMs}.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, conc, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= conc then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, math.max(5, math.min(50, tonumber(first[2]) - now))}
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
  return {0, math.max(1, math.ceil((1 - tokens) * 1000 / rate))}
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[2], lease * 2)
return {1, 0}
`;

/** The per-ERP request budget shared by every hub process through Redis (token bucket + leased semaphore). */
export class RedisRequestBudget implements RequestBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('erpBudgetAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  }

  async acquire(scope: string, l: BudgetLimits, signal?: AbortSignal): Promise<BudgetLease> {
    const id = randomUUID();
    const bucket = `${this.prefix}:erp-budget:${scope}:bucket`;
    const leases = `${this.prefix}:erp-budget:${scope}:leases`;
    const until = Date.now() + l.maxWaitMs;
    const burst = l.burst ?? Math.max(1, Math.ceil(l.requestsPerSecond));
    for (;;) {
      const [granted, waitMs] = (await (this.redis as any).erpBudgetAcquire(bucket, leases, l.requestsPerSecond, burst, l.concurrency, l.leaseMs, id)) as [number, number];
      if (granted === 1) return { release: async () => void (await this.redis.zrem(leases, id)) };
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (Date.now() + waitMs > until) throw new BudgetExhausted(`ERP request budget for ${scope} had no free slot within ${l.maxWaitMs} ms`);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/** In-process budget for a single process (tests of the pure reader, scripts); not shared. */
export class LocalRequestBudget implements RequestBudget {
  private held = new Map<string, number>();
  private tokens = new Map<string, { tokens: number; ts: number }>();

  async acquire(scope: string, l: BudgetLimits, signal?: AbortSignal): Promise<BudgetLease> {
    const until = Date.now() + l.maxWaitMs;
    const burst = l.burst ?? Math.max(1, Math.ceil(l.requestsPerSecond));
    for (;;) {
      const now = Date.now();
      const b = this.tokens.get(scope) ?? { tokens: burst, ts: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.ts) * l.requestsPerSecond) / 1000);
      b.ts = now;
      this.tokens.set(scope, b);
      let wait = 5;
      if ((this.held.get(scope) ?? 0) < l.concurrency) {
        if (b.tokens >= 1) {
          b.tokens -= 1;
          this.held.set(scope, (this.held.get(scope) ?? 0) + 1);
          let done = false;
          return { release: async () => void (!done && ((done = true), this.held.set(scope, this.held.get(scope)! - 1))) };
        }
        wait = Math.ceil(((1 - b.tokens) * 1000) / l.requestsPerSecond);
      }
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (Date.now() + wait > until) throw new BudgetExhausted(`ERP request budget for ${scope} had no free slot within ${l.maxWaitMs} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
