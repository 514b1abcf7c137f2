import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis options for BullMQ. Workers need maxRetriesPerRequest: null (blocking commands);
 * producers fail fast instead, so an accept never hangs on a Redis outage.
 */
export function redisConnection(url: string, opts: { worker: boolean }): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: opts.worker ? null : 1,
    enableOfflineQueue: opts.worker,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  };
}

export function newRedis(url: string, opts: { worker: boolean }): Redis {
  return new Redis(redisConnection(url, opts));
}
