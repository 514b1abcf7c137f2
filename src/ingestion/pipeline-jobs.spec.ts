import { ByteBudget, jobsBySize } from './pipeline-jobs.js';

const m = (id: string, bytes: number) => ({ id, bytes });

describe('pipeline jobs bounded by raw bytes', () => {
  it('cuts consecutive messages by count and by bytes; a message over the limit goes alone', () => {
    const jobs = jobsBySize([m('a', 400), m('b', 400), m('c', 400), m('d', 5000), m('e', 10), m('f', 10), m('g', 10)], 1000, 2);
    expect(jobs).toEqual([
      { messageIds: ['a', 'b'], bytes: 800 },
      { messageIds: ['c'], bytes: 400 },
      { messageIds: ['d'], bytes: 5000 },
      { messageIds: ['e', 'f'], bytes: 20 },
      { messageIds: ['g'], bytes: 10 },
    ]);
    expect(jobsBySize([], 1000, 2)).toEqual([]);
  });

  it('admits jobs while their bytes fit, in arrival order; a job larger than the budget runs alone', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    const run = async (name: string, bytes: number, hold: Promise<void>) => {
      const done = await budget.take(bytes);
      order.push(`start ${name} (${budget.inUse})`);
      await hold;
      order.push(`end ${name}`);
      done();
      done(); // giving back twice does not free bytes held by others
    };
    let releaseA!: () => void;
    let releaseB!: () => void;
    const a = run('a', 60, new Promise((r) => (releaseA = r)));
    const b = run('big', 500, new Promise((r) => (releaseB = r)));
    // Fits beside `a`, but arrives after `big`, which waits: first come, first served.
    const c = run('c', 30, Promise.resolve());
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['start a (60)']);
    releaseA();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['start a (60)', 'end a', 'start big (100)']);
    releaseB();
    await Promise.all([b, c]);
    expect(order).toEqual(['start a (60)', 'end a', 'start big (100)', 'end big', 'start c (30)', 'end c']);
    expect(budget.inUse).toBe(0);
  });
});
