import type { TaskStatusEvent } from '@taskq/contracts';
import type { QueueableTask } from '@taskq/persistence';

/** The status event of a task that was just stored as waiting (submitted, requeued). */
export function waitingEventOf(task: Pick<QueueableTask, 'id' | 'type' | 'tenant' | 'status'>, at: Date): TaskStatusEvent {
  return { kind: 'status', taskId: task.id, type: task.type, tenant: task.tenant, status: task.status, attempt: null, error: null, at: at.toISOString() };
}
