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
  /** Where its terminal state is POSTed; null: nowhere. */
  callbackUrl: string | null;
  /** The latest progress its handler reported (a percentage or an object); null before any. */
  progress: TaskProgress | null;
  progressUpdatedAt: string | null;
  attempts: AttemptView[];
  /** The latest callback delivery it owes or made; null without a callback URL or before its terminal state. */
  callback: CallbackView | null;
}

/** A completion callback: one per terminal state a task with a callback URL reached. */
export interface CallbackView {
  /** Sent as Taskq-Delivery. */
  id: string;
  event: 'completed' | 'dead' | 'cancelled';
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** One try to deliver a callback (`GET /tasks/:id/callbacks`). */
export interface CallbackDeliveryView {
  callbackId: string;
  attempt: number;
  event: CallbackView['event'];
  at: string;
  /** The receiver's answer; null when none came (refused, timed out, forbidden address). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One row of `GET /tasks` (no payload, result or attempts). */
export type TaskSummaryView = Omit<TaskView, 'payload' | 'result' | 'attempts' | 'callback'>;

export interface TaskPage {
  items: TaskSummaryView[];
  nextCursor: string | null;
}

/** `GET /signing-secret`, `POST /signing-secret/rotate` (admin): what a tenant's callbacks are signed with. */
export interface SigningSecretView {
  tenant: string;
  secret: string;
  /** Still signing beside the new one for 24 h after a rotation; null otherwise. */
  previousSecret: string | null;
  rotatedAt: string | null;
}
