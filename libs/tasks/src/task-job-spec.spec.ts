import { TaskStatus } from '@taskq/contracts';
import type { QueueableTask } from '@taskq/persistence';
import { jobSpecFor } from './task-job-spec';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

function task(overrides: Partial<QueueableTask>): QueueableTask {
  return {
    id: '6f1c1b9e-1b1a-4a4e-9c55-0d8f1e2a3b4c', type: 'webhook', status: TaskStatus.Queued, tenant: 'default',
    priority: 7, runAt: null, nextAttemptAt: null, maxAttempts: 5, attemptsMade: 0, attemptBase: 0, ...overrides,
  };
}

describe(jobSpecFor.name, () => {
  const data = { taskId: '6f1c1b9e-1b1a-4a4e-9c55-0d8f1e2a3b4c', type: 'noop' as const };

  it('carries only the task id and type (the worker reads the rest from PostgreSQL), delayed until runAt', () => {
    const submitted = task({ id: data.taskId, type: 'noop', priority: 4, maxAttempts: 3, attemptBase: 2, attemptsMade: 2, runAt: null });
    expect(jobSpecFor(submitted)).toEqual({ data, maxAttempts: 3, priority: 4, delayMs: 0 });
    expect(jobSpecFor({ ...submitted, runAt: new Date(10_500) }, 10_000).delayMs).toBe(500);
  });

  it('queues a task that never ran as it was submitted: whole budget and its priority (the worker reads payload and policies from PostgreSQL)', () => {
    expect(jobSpecFor(task({}), NOW)).toEqual({
      data: { taskId: task({}).id, type: 'webhook' },
      maxAttempts: 5,
      priority: 7,
      delayMs: 0,
    });
  });

  it('gives the new job only what is left of the budget', () => {
    // Two attempts failed: PostgreSQL numbers the next one 3 and declares the task dead after attempt 5.
    const sut = jobSpecFor(task({ status: TaskStatus.Retrying, attemptsMade: 2, nextAttemptAt: new Date(NOW - 1) }), NOW);
    expect(sut).toMatchObject({ maxAttempts: 3, delayMs: -1 });
  });

  it('counts only the attempts of the current budget (after a manual retry or an interruption)', () => {
    // 4 attempts before a retry gave a fresh budget of 5, then 1 more: 4 left.
    expect(jobSpecFor(task({ attemptsMade: 5, attemptBase: 4 }), NOW)).toMatchObject({ maxAttempts: 4 });
  });

  it('never asks for fewer than one attempt', () => {
    expect(jobSpecFor(task({ attemptsMade: 6, attemptBase: 0 }), NOW).maxAttempts).toBe(1);
  });

  it('keeps a delayed task until its run time, and a retry until its next attempt time', () => {
    const runAt = new Date(NOW + 3_600_000);
    const nextAttemptAt = new Date(NOW + 90_000);
    expect(jobSpecFor(task({ status: TaskStatus.Delayed, runAt }), NOW).delayMs).toBe(3_600_000);
    expect(jobSpecFor(task({ status: TaskStatus.Retrying, runAt: new Date(NOW - 5_000), nextAttemptAt, attemptsMade: 1 }), NOW).delayMs).toBe(90_000);
    expect(jobSpecFor(task({ status: TaskStatus.Queued, runAt: new Date(NOW - 5_000) }), NOW).delayMs).toBe(-5_000);
  });
});
