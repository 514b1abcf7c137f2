import { ScoopRounds } from './scoop-rounds.js';

/** A round the test finishes by hand: `interpreted()` and `finish()` / `fail()` move it on. */
interface Round {
  interpreted: () => void;
  finish: () => void;
  fail: (e: Error) => void;
}

function harness(parallel: number) {
  const rounds: Round[] = [];
  const errors: unknown[] = [];
  const scheduler = new ScoopRounds(
    parallel,
    (interpreted) => new Promise<void>((finish, fail) => rounds.push({ interpreted, finish, fail })),
    (e) => errors.push(e),
  );
  return { rounds, errors, scheduler };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('ScoopRounds: when scooping pipeline transactions run', () => {
  it('gives every job that asks while a round is reading one shared next round', async () => {
    const { rounds, scheduler } = harness(2);
    const answered: string[] = [];
    void scheduler.cover().then(() => answered.push('first'));
    for (let i = 0; i < 3; i++) void scheduler.cover().then(() => answered.push('later'));
    expect(rounds).toHaveLength(1);
    rounds[0].finish();
    await tick();
    expect(answered).toEqual(['first']);
    expect(rounds).toHaveLength(2);
    rounds[1].finish();
    await tick();
    expect(answered).toEqual(['first', 'later', 'later', 'later']);
  });

  it('starts the next round only once the running one has mapped its messages, and never more than `parallel`', async () => {
    const { rounds, scheduler } = harness(2);
    const done: string[] = [];
    void scheduler.cover().then(() => done.push('a'));
    expect(rounds).toHaveLength(1);
    // Asked while round 1 is still reading its messages: waits for round 2, which must not start yet.
    void scheduler.cover().then(() => done.push('b'));
    expect(rounds).toHaveLength(1);
    rounds[0].interpreted();
    expect(rounds).toHaveLength(2);
    rounds[1].interpreted();
    // Two rounds run: a third asker waits even though nobody is reading.
    void scheduler.cover().then(() => done.push('c'));
    expect(rounds).toHaveLength(2);
    rounds[0].finish();
    await tick();
    expect(done).toEqual(['a']);
    expect(rounds).toHaveLength(3);
    rounds[1].finish();
    rounds[2].finish();
    await tick();
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('never answers a job with a round that began before it asked', async () => {
    const { rounds, scheduler } = harness(1);
    let answered = false;
    void scheduler.cover();
    rounds[0].interpreted();
    void scheduler.cover().then(() => (answered = true));
    rounds[0].finish();
    await tick();
    expect(answered).toBe(false);
    expect(rounds).toHaveLength(2);
    rounds[1].finish();
    await tick();
    expect(answered).toBe(true);
  });

  it('reports a failed round to its jobs (they then process their own messages) and carries on', async () => {
    const { rounds, errors, scheduler } = harness(2);
    const first = scheduler.cover();
    rounds[0].fail(new Error('deadlock detected'));
    expect(await first).toBe(true);
    expect(errors).toHaveLength(1);
    const second = scheduler.cover();
    rounds[1].finish();
    expect(await second).toBe(false);
  });

  it('frees the next round when a round ends without reporting interpreted (nothing was waiting)', async () => {
    const { rounds, scheduler } = harness(2);
    void scheduler.cover();
    const next = scheduler.cover();
    expect(rounds).toHaveLength(1);
    rounds[0].finish();
    await tick();
    expect(rounds).toHaveLength(2);
    rounds[1].finish();
    expect(await next).toBe(false);
  });
});
