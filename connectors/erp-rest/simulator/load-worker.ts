import { Redis } from 'ioredis';
import { ErpHttp, type ErpInstance } from '../erp-http.js';
import { RedisRequestBudget } from '../request-budget.js';

/**
 * One hub-like worker process hammering the ERP through the shared Redis budget (used by the
 * budget test to prove two processes together stay within it). Input: LOAD_INSTANCE (JSON of a
 * resolved instance), LOAD_REQUESTS, LOAD_PARALLEL, REDIS_URL, LOAD_PREFIX. Prints a JSON line.
 */
async function main() {
  const inst = JSON.parse(process.env.LOAD_INSTANCE!) as ErpInstance;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const http = new ErpHttp(new RedisRequestBudget(redis, process.env.LOAD_PREFIX!));
  const total = Number(process.env.LOAD_REQUESTS ?? 20);
  const parallel = Number(process.env.LOAD_PARALLEL ?? 8);
  let next = 0;
  let ok = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        await http.call(inst, { path: `${inst.config.entities.customers}('C-1007')` });
        ok++;
      }
    }),
  );
  process.stdout.write(JSON.stringify({ ok, ms: Date.now() - t0 }) + '\n');
  redis.disconnect();
}

main().catch((e) => {
  process.stderr.write(`load worker failed: ${(e as Error).message}\n`);
  process.exit(1);
});
