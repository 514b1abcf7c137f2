import { Queue, Worker } from 'bullmq';
import pg from 'pg';
import type { BenchEvent } from './events.js';
import { redisOptions, type World } from './hub-process.js';

export interface BareResult {
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  rowsInserted: number;
  /** Whole-machine cores busy while it ran (filled in by the caller). */
  machineCores?: number;
}

/**
 * The floor the hub is compared with: BullMQ add + process, one pg INSERT per job, nothing else
 * (no HTTP, no signature check, no mapping, no transaction beyond the INSERT's own commit).
 * Producers add as fast as `producers` concurrent callers can; the worker's concurrency and the
 * pg pool size match the hub's defaults. Runs in this process after the hub has been stopped,
 * so the two never compete for the 2 cores.
 */
export async function bareLoop(
  world: World,
  events: BenchEvent[],
  opts: { producers: number; workerConcurrency: number; poolSize: number },
): Promise<BareResult> {
  const db = new pg.Pool({ connectionString: world.databaseUrl, max: opts.poolSize, options: `-c search_path=${world.tag}` });
  await db.query(`CREATE TABLE IF NOT EXISTS bench_bare_jobs (id bigserial PRIMARY KEY, job_id text NOT NULL, body text NOT NULL, inserted_at timestamptz NOT NULL DEFAULT now())`);
  const connection = redisOptions(world.redisUrl);
  const queue = new Queue('bare', { connection, prefix: world.tag });
  const n = events.length;
  let done = 0;
  let failed = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  const worker = new Worker(
    'bare',
    async (job) => {
      await db.query('INSERT INTO bench_bare_jobs (job_id, body) VALUES ($1, $2)', [job.id, job.data.body]);
    },
    { connection, prefix: world.tag, concurrency: opts.workerConcurrency },
  );
  worker.on('completed', () => {
    if (++done + failed === n) finish();
  });
  worker.on('failed', () => {
    if (done + ++failed === n) finish();
  });
  await worker.waitUntilReady();
  // Same retention as the hub's pipeline jobs, so Redis does comparable work per job.
  const jobOpts = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } };
  const bodies = events.map((e) => e.body.toString('utf8'));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.producers }, async () => {
      while (next < n) {
        const i = next++;
        await queue.add('job', { body: bodies[i] }, jobOpts);
      }
    }),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close();
  const [{ count }] = (await db.query(`SELECT count(*)::int AS count FROM bench_bare_jobs`)).rows;
  await db.end();
  if (failed) throw new Error(`bare loop: ${failed} jobs failed`);
  return { jobs: n, seconds, jobsPerSec: n / seconds, rowsInserted: count };
}
