import type { TaskStatusEvent } from '@taskq/contracts';
import type { QueueableTask } from '@taskq/persistence';

type WaitingTask = Pick<QueueableTask, 'id' | 'type' | 'tenant' | 'status'>;

/**
 * The status events of tasks that were just stored as waiting (submitted, requeued). Tasks
 * stored together share their time: it is formatted once, not once per task of a bulk.
 */
export function waitingEventsOf<T extends WaitingTask>(tasks: readonly T[], atOf: (task: T) => Date): TaskStatusEvent[] {
  let lastAt: Date | undefined;
  let lastIso = '';
  return tasks.map((task) => {
    const at = atOf(task);
    if (at !== lastAt) {
      lastAt = at;
      lastIso = at.toISOString();
    }
    return { kind: 'status', taskId: task.id, type: task.type, tenant: task.tenant, status: task.status, attempt: null, error: null, at: lastIso };
  });
}
