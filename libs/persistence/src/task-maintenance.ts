import type { DataSource } from 'typeorm';
import type { TaskStatus } from '@taskq/contracts';
import { ofRegisteredTypes, queueableTaskColumns, type QueueableTask } from './queueable-task';
import { rowsOf } from './rows-of';
import { budgetSpentSql } from './status-sql';
import type { AbandonedRun, LostAttempt } from './unfinished-task';

/** An attempt row left `running` after its run ended, now recorded as lost. */
export interface StrayRun {
  taskId: string;
  number: number;
  type: string;
}

/** One retention batch: which finished tasks to delete. */
export interface ExpiredTaskSelection {
  statuses: Array<TaskStatus.Completed | TaskStatus.Cancelled | TaskStatus.Dead>;
  finishedBefore: Date;
  limit: number;
}

export interface ExpiredTaskDeletion {
  tasks: number;
  attempts: number;
  /** Dead tasks among them: they also leave the dead-letter mirror. */
  deadTaskIds: string[];
}

/**
 * The reconciler's repairs of active tasks touch only those unchanged since it read them (still
 * active, same attempt, same updated_at), so a worker that wrote meanwhile wins. Two CTEs: the
 * input ($1 ids, $2 attempts_made, $3 updated_at, see {@link lostAttemptParams}) and `name`,
 * those tasks locked, with the columns `select` lists.
 */
const unchangedActiveTasks = (name: string, select: string): string => `input AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS i(task_id, attempts_made, updated_at)
       ), ${name} AS (
         SELECT ${select}
           FROM tasks t JOIN input i ON i.task_id = t.id
          WHERE t.status = 'active' AND t.attempts_made = i.attempts_made AND date_trunc('milliseconds', t.updated_at) = i.updated_at
            FOR UPDATE OF t
       )`;

const lostAttemptParams = (runs: LostAttempt[]): unknown[] => [runs.map((r) => r.taskId), runs.map((r) => r.attemptsMade), runs.map((r) => r.updatedAt)];

/**
 * The monitor's writes: retention, and the reconciler's repairs of runs nobody holds any more
 * (lost jobs, jobs finished in Redis, attempt rows left running).
 */
export class TaskMaintenance {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Retention: deletes up to `limit` tasks of the given statuses that finished before the
   * cutoff, their attempts with them (ON DELETE CASCADE). One short statement; rows another
   * transaction holds are skipped, so it never waits on the live system.
   */
  async deleteExpiredTasks(selection: ExpiredTaskSelection): Promise<ExpiredTaskDeletion> {
    // Every part of the statement sees the same snapshot: the attempts are counted before the cascade removes them.
    const rows = await rowsOf<ExpiredTaskDeletion>(
      this.dataSource,
      `WITH expired AS (
         SELECT id FROM tasks WHERE status = ANY($1::text[]) AND finished_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED
       ), removed AS (
         DELETE FROM tasks t USING expired e WHERE t.id = e.id RETURNING t.id, t.status
       )
       SELECT (SELECT count(*) FROM removed)::int AS tasks,
              (SELECT count(*) FROM task_attempts a JOIN removed r ON r.id = a.task_id)::int AS attempts,
              (SELECT coalesce(array_agg(id::text), '{}'::text[]) FROM removed WHERE status = 'dead') AS "deadTaskIds"`,
      [selection.statuses, selection.finishedBefore, selection.limit],
    );
    return rows[0] ?? { tasks: 0, attempts: 0, deadTaskIds: [] };
  }

  /**
   * The reconciler found these active tasks without their job in Redis (lost with Redis's
   * data, worker gone): each goes back to `queued`, and its running attempt is recorded as
   * `interrupted` with `error`, outside the task's budget (attempt_base + 1, as
   * AttemptLog.release does): Redis losing data is not the task's failure. Only tasks
   * unchanged since the reconciler read them are touched. Returns them as they are now.
   */
  async releaseLostAttempts(lost: LostAttempt[], release: { error: string; at: Date }): Promise<QueueableTask[]> {
    if (lost.length === 0) return [];
    const rows = await rowsOf<QueueableTask>(
      this.dataSource,
      `WITH ${unchangedActiveTasks('lost', `t.id, t.attempts_made,
                EXISTS (SELECT 1 FROM task_attempts a WHERE a.task_id = t.id AND a.number = t.attempts_made AND a.outcome = 'running') AS running`)},
       attempt AS (
         UPDATE task_attempts a SET finished_at = $4, duration_ms = NULL, outcome = 'interrupted', error = $5
           FROM lost l WHERE a.task_id = l.id AND a.number = l.attempts_made AND l.running
       )
       UPDATE tasks t
          SET status = 'queued', attempt_base = t.attempt_base + CASE WHEN l.running THEN 1 ELSE 0 END, next_attempt_at = NULL, updated_at = $4
         FROM lost l
        WHERE t.id = l.id
       RETURNING ${queueableTaskColumns('t')}`,
      [...lostAttemptParams(lost), release.at, release.error],
    );
    return ofRegisteredTypes(rows);
  }

  /**
   * The reconciler found these active tasks with their job finished in Redis (failed by
   * BullMQ, say after its worker died): nobody runs them. Each running attempt becomes `lost`,
   * charged to the budget like any run whose worker stopped; the task is queued again while
   * its budget lasts, and dead (with `error`) once it is spent. Only tasks unchanged since the
   * reconciler read them are touched. Returns them as they are now.
   */
  async abandonRuns(runs: LostAttempt[], abandon: { error: string; at: Date }): Promise<AbandonedRun[]> {
    if (runs.length === 0) return [];
    const rows = await rowsOf<QueueableTask & { dead: boolean }>(
      this.dataSource,
      `WITH ${unchangedActiveTasks('task', `t.id, ${budgetSpentSql('t')} AS spent`)},
       lost AS (
         UPDATE task_attempts a SET finished_at = $4, outcome = 'lost', error = $5
           FROM task k WHERE a.task_id = k.id AND a.outcome = 'running'
       )
       UPDATE tasks t
          SET status = CASE WHEN k.spent THEN 'dead' ELSE 'queued' END,
              finished_at = CASE WHEN k.spent THEN $4::timestamptz END,
              last_error = CASE WHEN k.spent THEN $5 ELSE t.last_error END,
              next_attempt_at = NULL, updated_at = $4
         FROM task k
        WHERE t.id = k.id
       RETURNING ${queueableTaskColumns('t')}, k.spent AS dead`,
      [...lostAttemptParams(runs), abandon.at, abandon.error],
    );
    return ofRegisteredTypes(rows).map(({ dead, ...task }) => (dead ? { dead: true, id: task.id, type: task.type } : { dead: false, task }));
  }

  /**
   * Attempt rows still `running` although their run is over: the task finished, went back to
   * the queue, or moved on to a later attempt (the worker stopped, and the job was cancelled,
   * removed or lost before another run could notice). Each becomes `lost` with `error`.
   * Only rows older than their attempt's deadline at `settledBefore`, at most `limit`.
   */
  async recordStrayRuns(selection: { settledBefore: Date; limit: number }, record: { error: string; at: Date }): Promise<StrayRun[]> {
    return rowsOf<StrayRun>(
      this.dataSource,
      `WITH stray AS (
         SELECT a.task_id, a.number, t.type
           FROM task_attempts a JOIN tasks t ON t.id = a.task_id
          WHERE a.outcome = 'running' AND a.started_at < $1
            AND (t.status <> 'active' OR a.number < t.attempts_made)
            AND a.started_at + t.timeout_ms * interval '1 millisecond' < $1
          ORDER BY a.started_at
          LIMIT $2
            FOR UPDATE OF a SKIP LOCKED
       )
       UPDATE task_attempts a SET outcome = 'lost', finished_at = $3, error = $4
         FROM stray s
        WHERE a.task_id = s.task_id AND a.number = s.number
       RETURNING a.task_id AS "taskId", a.number, s.type`,
      [selection.settledBefore, selection.limit, record.at, record.error],
    );
  }

}
