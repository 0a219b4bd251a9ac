/**
 * The attempt budget. PostgreSQL numbers every run of a task (attempts_made); the current
 * budget of `maxAttempts` runs began after attempt `attemptBase`: a manual retry or requeue
 * moves the base to the last attempt, and a run handed back for free (an outage, a lost job)
 * moves it on by one. The SQL statements that decide in PostgreSQL (AttemptLog's start,
 * the reconciler's repairs) apply the same rule: `attempts_made - attempt_base >= max_attempts`.
 */
export interface AttemptBudget {
  maxAttempts: number;
  attemptBase: number;
}

/** Runs of attempt number `attempt` and before that count against the current budget. */
export function chargedAttempts(attempt: number, budget: Pick<AttemptBudget, 'attemptBase'>): number {
  return attempt - budget.attemptBase;
}

/** With `charged` runs counted, no run is left. */
export function isBudgetSpent(charged: number, budget: Pick<AttemptBudget, 'maxAttempts'>): boolean {
  return charged >= budget.maxAttempts;
}

/** The number of the last attempt the current budget allows (what a handler sees as its `maxAttempts`). */
export function lastAttemptNumber(budget: AttemptBudget): number {
  return budget.attemptBase + budget.maxAttempts;
}

/** What is left of the budget after `attemptsMade` runs, as a new job's attempts: never fewer than one. */
export function attemptsLeft(task: AttemptBudget & { attemptsMade: number }): number {
  return Math.max(1, task.maxAttempts - chargedAttempts(task.attemptsMade, task));
}
