import { MAX_PRIORITY, type BackoffPolicy } from '@taskq/contracts';
import { TASK_BACKOFF, UNPRIORITISED, jobOptionsFor, taskBackoffStrategy, type TaskJobData } from './task-job';
import { queueNameFor } from './queue-names';

const backoff: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: 'none' };
const data: TaskJobData = { taskId: '6f1c1b9e-1b1a-4a4e-9c55-0d8f1e2a3b4c', type: 'noop' };

describe('jobOptionsFor', () => {
  it('uses the task id as job id so a task is queued at most once', () => {
    expect(jobOptionsFor({ data, maxAttempts: 3, priority: 5, delayMs: 0 })).toMatchObject({
      jobId: data.taskId,
      attempts: 3,
      priority: 5,
      backoff: { type: TASK_BACKOFF },
    });
  });

  it('runs unprioritised tasks after every prioritised one', () => {
    expect(UNPRIORITISED).toBeGreaterThan(MAX_PRIORITY);
    expect(jobOptionsFor({ data, maxAttempts: 1, priority: null, delayMs: 0 }).priority).toBe(UNPRIORITISED);
  });

  it('never asks for a negative delay', () => {
    expect(jobOptionsFor({ data, maxAttempts: 1, priority: null, delayMs: -5_000 }).delay).toBe(0);
  });

  it('bounds what finished jobs keep in Redis', () => {
    const options = jobOptionsFor({ data, maxAttempts: 1, priority: null, delayMs: 0 });
    expect(options.removeOnComplete).toEqual(expect.objectContaining({ count: expect.any(Number) }));
    expect(options.removeOnFail).toEqual(expect.objectContaining({ count: expect.any(Number) }));
  });
});

describe('taskBackoffStrategy', () => {
  it("follows the policy in a job queued by an earlier version, else waits 1 s", () => {
    expect(taskBackoffStrategy(3, TASK_BACKOFF, undefined, { data: { ...data, backoff } })).toBe(400);
    expect(taskBackoffStrategy(3, TASK_BACKOFF, undefined, { data })).toBe(1_000);
  });
});

describe('queueNameFor', () => {
  it('wraps the queue in a Redis Cluster hash tag', () => {
    expect(queueNameFor('email')).toBe('{email}');
  });
});
