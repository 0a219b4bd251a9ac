import type { DataSource } from 'typeorm';
import { TASK_TYPE_NAMES, type TaskStatus, type TaskType } from '@taskq/contracts';
import { queueableTaskColumns, ofRegisteredTypes, type QueueableTask, type TaskRestorePoint } from './queueable-task';
import { rowsOf } from './rows-of';
import { TERMINAL_STATUSES_SQL as TERMINAL } from './status-sql';
import { selectionSql, type TaskSelection } from './task-selection';

/** A task the API cancelled. */
export interface CancelledTask {
  previousStatus: TaskStatus;
  type: string;
  tenant: string;
  finishedAt: Date;
  /** Its queue; null when this build registers no such type (then no queue of ours holds its job). */
  queue: TaskType | null;
}

/** Tasks deleted from the record: how many, and the jobs of theirs that may still wait in Redis. */
export interface DeletedTasks {
  count: number;
  jobs: Array<{ id: string; type: TaskType }>;
}

/**
 * Lifecycle changes a user asks for (the API): requeue (manual retry, dead-letter requeue),
 * the undoing of a requeue Redis refused, cancel and delete.
 */
export class TaskLifecycleStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Puts the selected tasks back to `queued` with a fresh attempt budget; their history
   * stays and new attempts are numbered after it. Returns them as their jobs need them, with
   * what {@link restoreStatuses} needs to undo it. Only tasks of registered types: another
   * type's task would have no queue to go to.
   */
  async requeueTasks(selection: TaskSelection, limit: number): Promise<Array<QueueableTask & TaskRestorePoint>> {
    const { where, params } = selectionSql(selection);
    params.push(TASK_TYPE_NAMES, limit);
    const rows = await rowsOf<QueueableTask & TaskRestorePoint>(
      this.dataSource,
      `WITH selected AS (
         SELECT id, status, finished_at FROM tasks
          WHERE ${where} AND type = ANY($${params.length - 1}::text[])
          ORDER BY finished_at NULLS LAST, id LIMIT $${params.length} FOR UPDATE SKIP LOCKED
       )
       UPDATE tasks t
          SET status = 'queued', attempt_base = t.attempts_made, next_attempt_at = NULL, finished_at = NULL, run_at = NULL, updated_at = now()
         FROM selected s
        WHERE t.id = s.id
       RETURNING ${queueableTaskColumns('t')}, s.status AS "previousStatus", s.finished_at AS "previousFinishedAt"`,
      params,
    );
    return ofRegisteredTypes(rows);
  }

  /** Undoes a requeue whose jobs could not be queued (Redis down). */
  async restoreStatuses(tasks: TaskRestorePoint[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.dataSource.query(
      `UPDATE tasks t SET status = i.status, finished_at = i.finished_at, updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS i(id, status, finished_at)
        WHERE t.id = i.id AND t.status = 'queued'`,
      [tasks.map((t) => t.id), tasks.map((t) => t.previousStatus), tasks.map((t) => t.previousFinishedAt)],
    );
  }

  /**
   * Cancels a task that has not finished (of `tenant` only, when given). Resolves with the
   * status it had and its queue, or null when it is unknown, another tenant's or already finished.
   */
  async cancelTask(id: string, tenant?: string): Promise<CancelledTask | null> {
    const rows = await rowsOf<{ previousStatus: TaskStatus; type: string; tenant: string; finishedAt: Date }>(
      this.dataSource,
      `WITH previous AS (SELECT id, status FROM tasks WHERE id = $1 AND ($2::text IS NULL OR tenant = $2) AND status NOT IN ${TERMINAL} FOR UPDATE)
       UPDATE tasks t SET status = 'cancelled', finished_at = date_trunc('milliseconds', now()), next_attempt_at = NULL, updated_at = now()
         FROM previous p WHERE t.id = p.id
       RETURNING p.status AS "previousStatus", t.type, t.tenant, t.finished_at AS "finishedAt"`,
      [id, tenant ?? null],
    );
    const row = rows[0];
    if (!row) return null;
    return { ...row, queue: ofRegisteredTypes([row])[0]?.type ?? null };
  }

  /** Deletes the selected tasks with their attempts, at most `limit`. */
  async deleteTasks(selection: TaskSelection, limit: number): Promise<DeletedTasks> {
    const { where, params } = selectionSql(selection);
    params.push(limit);
    const rows = await rowsOf<{ id: string; type: string }>(
      this.dataSource,
      `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE ${where} LIMIT $${params.length} FOR UPDATE SKIP LOCKED) RETURNING id, type`,
      params,
    );
    return { count: rows.length, jobs: ofRegisteredTypes(rows) };
  }
}
