import { QUEUE_POLICY, QueueName, workerLock } from './queue-policy.js';

describe('workerLock', () => {
  it("keeps each queue's own lock when HUB_QUEUE_LOCK_MS is unset, looking for stalled jobs every half lock", () => {
    expect(workerLock(QueueName.CaseActions)).toEqual({ lockDuration: 60_000, stalledInterval: 30_000 });
    expect(workerLock(QueueName.SlaTimers)).toEqual({ lockDuration: 30_000, stalledInterval: 15_000 });
    expect(workerLock(QueueName.Pipeline).lockDuration).toBe(QUEUE_POLICY[QueueName.Pipeline].lockDuration);
  });
  it('uses HUB_QUEUE_LOCK_MS for every queue when it is set; stalled checks are at most once a second', () => {
    for (const q of [QueueName.Pipeline, QueueName.SlaTimers, QueueName.CaseActions]) expect(workerLock(q, 2000)).toEqual({ lockDuration: 2000, stalledInterval: 1000 });
    expect(workerLock(QueueName.CaseActions, 1500)).toEqual({ lockDuration: 1500, stalledInterval: 1000 });
  });
});
