/**
 * Schedules the pipeline's scooping transactions in one process.
 *
 * Webhook traffic reaches the pipeline as many small accept commits, one job each. A transaction per
 * job pays its fixed cost for a handful of messages, so a first-attempt job "scoops" every message
 * waiting. When every job scooped on its own, four large transactions ran at once and queued on
 * each other's case-key locks and reporting rollup rows (under load, lock waits were over half of a
 * batch's time, and memory held four batches). Here jobs do not scoop themselves: they ask for a
 * round and wait until a round that began after they asked has finished.
 *
 * At most `parallel` rounds run, and a new one starts only once the previous one has finished
 * reading and mapping its messages (`interpreted`): one round maps and routes while the other writes,
 * so the process's CPU and PostgreSQL's work overlap without two rounds reading the same backlog.
 */
export class ScoopRounds {
  private running = 0;
  /** A round has started and not yet reported `interpreted`. */
  private taking = false;
  private waiters: ((failed: boolean) => void)[] = [];

  constructor(
    private readonly parallel: number,
    /** Runs one scooping transaction; calls `interpreted` once its messages are mapped and routed. */
    private readonly round: (interpreted: () => void) => Promise<unknown>,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Resolves after a round that began after this call has finished; `true` if that round failed. */
  cover(): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  private kick(): void {
    if (this.taking || this.running >= this.parallel || this.waiters.length === 0) return;
    const mine = this.waiters.splice(0);
    this.running++;
    this.taking = true;
    let released = false;
    const interpreted = () => {
      if (released) return;
      released = true;
      this.taking = false;
      this.kick();
    };
    let failed = false;
    void this.round(interpreted)
      .catch((e) => {
        failed = true;
        this.onError(e);
      })
      .finally(() => {
        this.running--;
        interpreted();
        for (const w of mine) w(failed);
        this.kick();
      });
  }
}
