/** The statuses of a task that has not finished, for SQL: its job should be in Redis. */
export const UNFINISHED_STATUSES_SQL = `('queued','delayed','retrying','active')`;

/** The statuses a task ends in, for SQL: it keeps them for good. */
export const TERMINAL_STATUSES_SQL = `('completed','dead','cancelled')`;

/**
 * Whether the task `alias` has spent its attempt budget, for SQL: the runs after attempt_base
 * fill max_attempts. The same rule as libs/tasks' attempt budget (isBudgetSpent), where
 * PostgreSQL must decide it in the statement that starts or charges a run.
 */
export const budgetSpentSql = (alias: string): string => `${alias}.attempts_made - ${alias}.attempt_base >= ${alias}.max_attempts`;
