/**
 * WARNING: these values are stored in PostgreSQL (tasks.status, task_attempts.outcome)
 * and returned by the HTTP API. Renaming one needs a migration and an API version bump.
 */
export enum TaskStatus {
  Queued = 'queued',
  Delayed = 'delayed',
  Active = 'active',
  Retrying = 'retrying',
  Completed = 'completed',
  Dead = 'dead',
  Cancelled = 'cancelled',
}

export const TERMINAL_STATUSES: readonly TaskStatus[] = [TaskStatus.Completed, TaskStatus.Dead, TaskStatus.Cancelled];

export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** WARNING: stored in task_attempts.outcome. */
export enum AttemptOutcome {
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  TimedOut = 'timed_out',
  /** Stopped by `POST /tasks/:id/cancel` while running. */
  Cancelled = 'cancelled',
  /**
   * Stopped by its worker's shutdown deadline, or cut short when Redis lost its job, and
   * handed back to the queue: costs no attempt.
   */
  Interrupted = 'interrupted',
  /**
   * Its worker stopped without recording an outcome (killed, crashed, or lost its lock), found
   * when the task next starts or by the reconciler. Counts against the attempt budget, so a
   * task that kills its worker every time ends dead instead of looping.
   */
  Lost = 'lost',
}
