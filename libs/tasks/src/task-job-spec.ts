import { TaskStatus } from '@taskq/contracts';
import type { QueueableTask } from '@taskq/persistence';
import type { TaskJobSpec } from '@taskq/queue';
import { attemptsLeft } from './attempt-budget';

/**
 * The BullMQ job of a stored task, for every path that queues one: a submission, a schedule's
 * run, a retry or requeue, the reconciler's repairs. So priority and retention options are the
 * same everywhere.
 *
 * The job carries only the task's id and type (the worker reads the rest from PostgreSQL).
 * The attempt budget carries over: PostgreSQL numbers attempts and keeps the budget, and the
 * new job, which starts at 0 attempts made, gets what is left of it as its BullMQ attempts.
 * A retry waits for its backoff, a delayed task for its run time; a past time runs now.
 */
export function jobSpecFor(task: QueueableTask, now = Date.now()): TaskJobSpec {
  const dueAt = task.status === TaskStatus.Retrying ? task.nextAttemptAt : task.runAt;
  return {
    data: { taskId: task.id, type: task.type },
    maxAttempts: attemptsLeft(task),
    priority: task.priority,
    delayMs: dueAt ? dueAt.getTime() - now : 0,
  };
}
