import type { DeadTaskSummary } from '@taskq/persistence';

/** One dead task in an alert. */
export interface DeadTaskAlert {
  id: string;
  type: string;
  error: string | null;
  attempts: number;
  finishedAt: string;
  /** The task in the REST API. */
  url: string;
}

/** The JSON body POSTed to ALERT_WEBHOOK_URL. */
export interface DeadTaskAlertPayload {
  source: 'taskq';
  dead: DeadTaskAlert[];
  count: number;
  /** Dead tasks left out because more died than the buffer holds (see GET /dlq). */
  dropped: number;
}

const MAX_ERROR_LENGTH = 2_000;

export function deadTaskAlert(task: DeadTaskSummary): DeadTaskAlert {
  const error = task.error && task.error.length > MAX_ERROR_LENGTH ? `${task.error.slice(0, MAX_ERROR_LENGTH)}…` : task.error;
  return { id: task.id, type: task.type, error, attempts: task.attempts, finishedAt: task.finishedAt.toISOString(), url: `/tasks/${task.id}` };
}
