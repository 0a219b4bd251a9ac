import { isTaskType, type BackoffPolicy } from '@taskq/contracts';
import type { TaskJobSpec } from '@taskq/queue';

export interface QueueableTask {
  id: string;
  type: string;
  payload: unknown;
  priority: number | null;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  attemptBase: number;
  runAt: Date | null;
}

/** The BullMQ job of a stored task. */
export function jobSpecFor(task: QueueableTask, now = Date.now()): TaskJobSpec {
  if (!isTaskType(task.type)) throw new Error(`task ${task.id} has an unregistered type "${task.type}"`);
  return {
    data: { taskId: task.id, type: task.type, payload: task.payload, backoff: task.backoff, timeoutMs: task.timeoutMs, attemptBase: task.attemptBase },
    maxAttempts: task.maxAttempts,
    priority: task.priority,
    delayMs: task.runAt ? task.runAt.getTime() - now : 0,
  };
}
