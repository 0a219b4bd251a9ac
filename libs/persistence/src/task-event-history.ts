import type { DataSource } from 'typeorm';
import { TERMINAL_STATUSES, type TaskProgressEvent, type TaskStatus, type TaskStatusEvent } from '@taskq/contracts';
import { rowsOf } from './rows-of';

export interface TerminalEventFilter {
  /** Only this tenant's tasks; undefined: every tenant's. */
  tenant?: string;
  taskIds?: readonly string[];
  types?: readonly string[];
  /** Terminal statuses wanted (others are ignored); undefined: all three. */
  statuses?: readonly TaskStatus[];
}

interface TaskStateRow {
  taskId: string;
  type: string;
  tenant: string;
  status: TaskStatus;
  attempt: number | null;
  error: string | null;
  at: Date;
  progress: TaskProgressEvent['progress'] | null;
  progressAt: Date | null;
}

const statusEventOf = (row: TaskStateRow): TaskStatusEvent => ({
  kind: 'status',
  taskId: row.taskId,
  type: row.type,
  tenant: row.tenant,
  status: row.status,
  attempt: row.attempt,
  error: row.error,
  at: row.at.toISOString(),
});

/**
 * What live event streams read from the record: a task's state as it is now, and the
 * terminal states reached since a time, so a stream that missed announcements (a reconnect,
 * a Redis gap, a process that crashed between its commit and its publish) catches up.
 */
export class TaskEventHistory {
  constructor(private readonly dataSource: DataSource) {}

  /** The task's status (and latest progress, while it runs), or null when unknown or another tenant's. */
  async snapshot(taskId: string, tenant?: string): Promise<{ status: TaskStatusEvent; progress: TaskProgressEvent | null } | null> {
    const [row] = await rowsOf<TaskStateRow>(
      this.dataSource,
      `SELECT id AS "taskId", type, tenant, status, NULLIF(attempts_made, 0) AS attempt,
              CASE WHEN status IN ('retrying', 'dead') THEN last_error END AS error,
              COALESCE(finished_at, updated_at) AS at, progress, progress_at AS "progressAt"
         FROM tasks WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)`,
      [taskId, tenant ?? null],
    );
    if (!row) return null;
    const progress =
      row.progress !== null && row.progressAt !== null
        ? { kind: 'progress' as const, taskId: row.taskId, type: row.type, tenant: row.tenant, progress: row.progress, at: row.progressAt.toISOString() }
        : null;
    return { status: statusEventOf(row), progress };
  }

  /**
   * Terminal states reached at or after `since`, oldest first, at most `limit`. Served by
   * tasks_finished_idx (status, finished_at): one range scan per terminal status.
   */
  async terminalSince(since: Date, filter: TerminalEventFilter, limit: number): Promise<TaskStatusEvent[]> {
    const statuses = (filter.statuses ?? TERMINAL_STATUSES).filter((status) => TERMINAL_STATUSES.includes(status));
    if (statuses.length === 0) return [];
    const rows = await rowsOf<TaskStateRow>(
      this.dataSource,
      `SELECT id AS "taskId", type, tenant, status, NULLIF(attempts_made, 0) AS attempt,
              CASE WHEN status = 'dead' THEN last_error END AS error, finished_at AS at
         FROM tasks
        WHERE status = ANY($1::text[]) AND finished_at >= $2
          AND ($3::text IS NULL OR tenant = $3) AND ($4::uuid[] IS NULL OR id = ANY($4::uuid[])) AND ($5::text[] IS NULL OR type = ANY($5::text[]))
        ORDER BY finished_at, id LIMIT $6`,
      [statuses, since, filter.tenant ?? null, filter.taskIds ?? null, filter.types ?? null, limit],
    );
    return rows.map(statusEventOf);
  }
}
