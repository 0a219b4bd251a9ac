import type { BackoffPolicy } from '@taskq/contracts';
import type { UnfinishedStatus, UnfinishedTask } from './unfinished-task';

/** The columns of an {@link UnfinishedTask}, as TaskQueries reads them and TaskStore returns them. */
export const UNFINISHED_TASK_COLUMNS =
  'id, type, status, payload, priority, run_at, next_attempt_at, max_attempts, attempts_made, attempt_base, backoff, timeout_ms, created_at, updated_at';

export const UNFINISHED_STATUSES_SQL = `('queued','delayed','retrying','active')`;

/** The statuses a task ends in, for SQL: it keeps them for good. */
export const TERMINAL_STATUSES_SQL = `('completed','dead','cancelled')`;

export interface UnfinishedTaskRow {
  id: string; type: string; status: UnfinishedStatus; payload: unknown; priority: number | null; run_at: Date | null;
  next_attempt_at: Date | null; max_attempts: number; attempts_made: number; attempt_base: number; backoff: BackoffPolicy;
  timeout_ms: number; created_at: Date; updated_at: Date;
}

export function unfinishedTaskOf(row: UnfinishedTaskRow): UnfinishedTask {
  return {
    id: row.id, type: row.type, status: row.status, payload: row.payload, priority: row.priority, runAt: row.run_at,
    nextAttemptAt: row.next_attempt_at, maxAttempts: row.max_attempts, attemptsMade: row.attempts_made, attemptBase: row.attempt_base,
    backoff: row.backoff, timeoutMs: row.timeout_ms, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}
