/**
 * Lets a long CPU-bound loop give the event loop back every few milliseconds.
 *
 * Why: with all roles in one process, a pipeline batch maps and routes a few hundred messages in
 * one go. Awaiting JSONata or routing only queues microtasks, so without an explicit yield the batch
 * holds the event loop for tens of milliseconds and every webhook waiting for its 202 (and every
 * group commit waiting for its callback) waits with it. Yielding through `setImmediate` lets pending
 * I/O callbacks run between slices; a slice of a few ms costs nothing measurable in throughput.
 */
export class TurnTaking {
  private since = performance.now();

  constructor(private readonly sliceMs = 4) {}

  /** Yields if this slice has run for `sliceMs` or longer. */
  async pause(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}
