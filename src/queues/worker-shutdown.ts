import type { Worker } from 'bullmq';

/**
 * Closes a BullMQ worker without leaving its stalled-job checker waiting. bullmq 5's checker loop
 * tests for close() only before a check, not before the wait after it: a close() that lands while a
 * check is in flight leaves one more `stalledInterval` wait (15–30 s), and that timer keeps the process
 * alive that long after shutdown (an in-process hub in a test or bench lingers; jest reports a worker
 * that failed to exit). The interval is read when that wait starts, so it is shortened first; nothing
 * else reads it once the worker is closing (the check it bounds runs no more).
 */
export async function closeWorker(worker: Worker | undefined): Promise<void> {
  if (!worker) return;
  worker.opts.stalledInterval = 1;
  await worker.close();
}
