/** The statuses of a task that has not finished, for SQL: its job should be in Redis. */
export const UNFINISHED_STATUSES_SQL = `('queued','delayed','retrying','active')`;

/** The statuses a task ends in, for SQL: it keeps them for good. */
export const TERMINAL_STATUSES_SQL = `('completed','dead','cancelled')`;
