import { TaskStatus } from '@taskq/contracts';
import type { UnfinishedTask } from '@taskq/persistence';
import { jobSpecFor, type TaskJobSpec } from '@taskq/queue';

/**
 * The job that puts an unfinished task back in its queue: built by `jobSpecFor`, as every
 * producer path builds its jobs, so priority and retention options are the same.
 *
 * The attempt budget carries over: PostgreSQL numbers attempts and keeps the budget, and the
 * new job, which starts at 0 attempts made, gets what is left of the current budget
 * (attempts since `attempt_base`) as its BullMQ attempts.
 */
export function requeueSpecFor(task: UnfinishedTask, now = Date.now()): TaskJobSpec {
  const spent = task.attemptsMade - task.attemptBase;
  return jobSpecFor(
    {
      id: task.id,
      type: task.type,
      priority: task.priority,
      maxAttempts: Math.max(1, task.maxAttempts - spent),
      // A retry waits for its backoff, a delayed task for its run time; a past time runs now.
      runAt: task.status === TaskStatus.Retrying ? task.nextAttemptAt : task.runAt,
    },
    now,
  );
}
