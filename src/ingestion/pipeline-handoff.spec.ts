import { PipelineHandoff } from './pipeline-handoff.js';
import type { PipelineJobData } from './pipeline-jobs.js';

const msgs = (from: number, n: number, bytes = 100) => Array.from({ length: n }, (_, i) => ({ id: `m${from + i}`, bytes }));

function handoff(lingerMs: number, maxBytes = 10_000, maxCount = 10) {
  const jobs: PipelineJobData[] = [];
  const h = new PipelineHandoff(lingerMs, maxBytes, maxCount, async (job) => {
    jobs.push(job);
  });
  return { h, jobs };
}

describe('PipelineHandoff: accept commits into pipeline jobs', () => {
  it('lets commits that follow within the linger share one job', async () => {
    const { h, jobs } = handoff(20);
    h.add(msgs(0, 2));
    h.add(msgs(2, 3));
    expect(jobs).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(jobs).toEqual([{ messageIds: ['m0', 'm1', 'm2', 'm3', 'm4'], bytes: 500 }]);
  });

  it('hands over at once when a job is full by count or bytes, and never exceeds the limits', async () => {
    const { h, jobs } = handoff(10_000, 1_000, 4);
    h.add(msgs(0, 3));
    expect(jobs).toEqual([]);
    h.add(msgs(3, 3));
    expect(jobs.map((j) => j.messageIds)).toEqual([['m0', 'm1', 'm2', 'm3'], ['m4', 'm5']]);
    const bytes = handoff(10_000, 1_000, 100);
    bytes.h.add(msgs(0, 2, 600));
    expect(bytes.jobs.map((j) => j.messageIds)).toEqual([['m0'], ['m1']]);
  });

  it('hands over each commit on its own with no linger', () => {
    const { h, jobs } = handoff(0);
    h.add(msgs(0, 2));
    h.add(msgs(2, 1));
    expect(jobs.map((j) => j.messageIds)).toEqual([['m0', 'm1'], ['m2']]);
  });

  it('flushes what is pending at shutdown and leaves no timer behind', async () => {
    const { h, jobs } = handoff(60_000);
    h.add(msgs(0, 1));
    await h.flush();
    expect(jobs).toEqual([{ messageIds: ['m0'], bytes: 100 }]);
    await h.flush();
    expect(jobs).toHaveLength(1);
  });
});
