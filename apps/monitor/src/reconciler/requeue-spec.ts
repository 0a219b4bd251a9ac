import { TaskStatus } from '@taskq/contracts';
import type { UnfinishedTask } from '@taskq/persistence';
import { jobSpecFor, type TaskJobSpec } from '@taskq/queue';

/**
 * The job that puts an unfinished task back in its queue: built by `jobSpecFor`, as every
 * producer path builds its jobs, so priority, backoff and retention options are the same.
 *
 * The attempt budget carries over. A worker numbers an attempt `attemptBase + attemptsMade
 * of the job + 1` and declares the task dead when the job's own attempts are spent. The new
 * job starts at 0 attempts made, so its `attemptBase` is every attempt recorded so far and
 * its `maxAttempts` what is left of the current budget (attempts since `attempt_base`).
 * Retry delays restart from the first backoff step: BullMQ cannot create a job with attempts
 * already made.
 */
export function requeueSpecFor(task: UnfinishedTask, now = Date.now()): TaskJobSpec {
  const spent = task.attemptsMade - task.attemptBase;
  return jobSpecFor(
    {
      id: task.id,
      type: task.type,
      payload: task.payload,
      priority: task.priority,
      backoff: task.backoff,
      timeoutMs: task.timeoutMs,
      attemptBase: task.attemptsMade,
      maxAttempts: Math.max(1, task.maxAttempts - spent),
      // A retry waits for its backoff, a delayed task for its run time; a past time runs now.
      runAt: task.status === TaskStatus.Retrying ? task.nextAttemptAt : task.runAt,
    },
    now,
  );
}
