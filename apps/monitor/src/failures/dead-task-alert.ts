import type { DeadTaskAlert } from '@taskq/contracts';
import type { DeadTaskSummary } from '@taskq/persistence';

const MAX_ERROR_LENGTH = 2_000;

/** A dead task as its alert shows it: the error cut to a bounded length. */
export function deadTaskAlert(task: DeadTaskSummary): DeadTaskAlert {
  const error = task.error && task.error.length > MAX_ERROR_LENGTH ? `${task.error.slice(0, MAX_ERROR_LENGTH)}…` : task.error;
  return { id: task.id, type: task.type, error, attempts: task.attempts, finishedAt: task.finishedAt.toISOString(), url: `/tasks/${task.id}` };
}
