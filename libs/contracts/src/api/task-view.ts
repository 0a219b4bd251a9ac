import type { BackoffPolicy } from '../backoff-policy';
import type { AttemptOutcome, TaskStatus } from '../task-status';
import type { TaskProgress } from './task-event';

export interface AttemptView {
  number: number;
  workerId: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

/** `GET /tasks/:id`. */
export interface TaskView {
  id: string;
  type: string;
  status: TaskStatus;
  /** Owner: the tenant of the API key (or schedule) that created it. */
  tenant: string;
  payload: unknown;
  result: unknown;
  lastError: string | null;
  priority: number | null;
  runAt: string | null;
  /** Attempts of the current budget (reset by a manual retry or a DLQ requeue). */
  maxAttempts: number;
  /** Attempts made over the task's whole life. */
  attemptsMade: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  idempotencyKey: string | null;
  /** The recurring schedule that created the task; null for a submitted task. */
  scheduleName: string | null;
  /** When a `retrying` task runs again. */
  nextAttemptAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The latest progress its handler reported (a percentage or an object); null before any. */
  progress: TaskProgress | null;
  progressUpdatedAt: string | null;
  attempts: AttemptView[];
}

/** One row of `GET /tasks` (no payload, result or attempts). */
export type TaskSummaryView = Omit<TaskView, 'payload' | 'result' | 'attempts'>;

export interface TaskPage {
  items: TaskSummaryView[];
  nextCursor: string | null;
}
