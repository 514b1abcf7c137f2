/**
 * Memory bounds of the pipeline, by design rather than by heap size. A pipeline job holds every
 * message it processes, parsed, until its one transaction commits; what that costs is roughly
 * proportional to the raw bytes (measured: a 2 MB X12 856 interchange holds about 35 MB of heap
 * while its documents, exceptions and acknowledgments wait for the commit). So:
 *
 * - jobs are cut by raw bytes as well as by count (`jobsBySize`): a job never carries more than
 *   HUB_PIPELINE_JOB_BYTES of messages, except one message larger than that, which goes alone;
 * - each worker process admits jobs against a budget of raw bytes in flight (`ByteBudget`,
 *   HUB_PIPELINE_INFLIGHT_BYTES): concurrency fills up with small jobs, but a few large interchanges
 *   run one or two at a time instead of HUB_WORKER_CONCURRENCY at once.
 */
export interface SizedMessage {
  id: string;
  bytes: number;
}

export interface PipelineJobData {
  messageIds: string[];
  /** Raw bytes of the messages (as queued); lets the worker admit the job without a query. */
  bytes?: number;
}

/** Consecutive groups of at most `maxCount` messages and `maxBytes` raw bytes (a larger message alone). */
export function jobsBySize(messages: SizedMessage[], maxBytes: number, maxCount: number): PipelineJobData[] {
  const jobs: PipelineJobData[] = [];
  let ids: string[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (ids.length && (ids.length >= maxCount || bytes + m.bytes > maxBytes)) {
      jobs.push({ messageIds: ids, bytes });
      ids = [];
      bytes = 0;
    }
    ids.push(m.id);
    bytes += m.bytes;
  }
  if (ids.length) jobs.push({ messageIds: ids, bytes });
  return jobs;
}

/**
 * A counting semaphore over bytes, in one process. `take(n)` waits until n bytes fit (n is capped at
 * the whole budget, so a job larger than the budget runs alone rather than never); first come, first
 * served, so a large job is not starved by a stream of small ones.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  async take(bytes: number): Promise<() => void> {
    const n = Math.min(Math.max(0, bytes), this.capacity);
    if (!this.waiting.length && this.used + n <= this.capacity) this.used += n;
    else await new Promise<void>((go) => this.waiting.push({ n, go }));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= n;
      this.admit();
    };
  }

  private admit() {
    while (this.waiting.length && this.used + this.waiting[0].n <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.n;
      next.go();
    }
  }
}
