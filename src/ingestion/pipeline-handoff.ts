import { jobsBySize, type PipelineJobData, type SizedMessage } from './pipeline-jobs.js';

/**
 * Hands stored messages to the pipeline queue in few jobs.
 *
 * Under webhook load every group commit stores a handful of messages; a job per commit cost the worker
 * a BullMQ fetch, a completion and a status check each (about 8 % of a worker's CPU at 1,000
 * events/s, while scooping rounds did the actual work). Commits that follow each other within
 * `lingerMs` now share jobs. The messages are already durable and marked enqueued: if the process dies
 * before the hand-off, the sweeper re-enqueues them, as it does when Redis is down at accept.
 */
export class PipelineHandoff {
  private pending: SizedMessage[] = [];
  private bytes = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly lingerMs: number,
    private readonly maxBytes: number,
    private readonly maxCount: number,
    private readonly enqueue: (job: PipelineJobData) => Promise<void>,
  ) {}

  add(stored: SizedMessage[]): void {
    for (const m of stored) {
      this.pending.push(m);
      this.bytes += m.bytes;
    }
    // A full job (or no lingering configured) goes at once; otherwise wait briefly for the next commits.
    if (this.lingerMs === 0 || this.pending.length >= this.maxCount || this.bytes >= this.maxBytes) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.lingerMs);
  }

  /** Hands over everything pending now (also at shutdown). Enqueue failures are the caller's to handle. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    await Promise.all(jobsBySize(batch, this.maxBytes, this.maxCount).map((job) => this.enqueue(job)));
  }
}
