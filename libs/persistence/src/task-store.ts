import type { DataSource } from 'typeorm';
import { TaskStatus, type BackoffPolicy } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';
import { preparedRowsOf, rowsOf } from './rows-of';
import type { AbandonedRun, LostAttempt, UnfinishedTask } from './unfinished-task';
import { TERMINAL_STATUSES_SQL as TERMINAL, UNFINISHED_TASK_COLUMNS, unfinishedTaskOf, type UnfinishedTaskRow } from './unfinished-task-row';

export interface NewTask {
  id: string;
  type: string;
  status: TaskStatus.Queued | TaskStatus.Delayed;
  payload: unknown;
  priority: number | null;
  runAt: Date | null;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The recurring schedule that created the task; absent or null when a client submitted it. */
  scheduleName?: string | null;
  /** Owner: the tenant of the API key (or schedule) that created it. Idempotency keys are per tenant. */
  tenant: string;
  /** Millisecond precision on purpose: list cursors round-trip through JavaScript dates. */
  createdAt: Date;
}

/** What it takes to queue a task's job again (manual retry, DLQ requeue). */
export interface RequeuedTask {
  id: string;
  type: string;
  payload: unknown;
  priority: number | null;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  attemptBase: number;
  previousStatus: TaskStatus;
  previousFinishedAt: Date | null;
}

/** Which tasks a bulk lifecycle change applies to. */
export interface TaskSelection {
  ids?: string[];
  statuses: TaskStatus[];
  /** Only this tenant's tasks; undefined: every tenant's (admin keys). */
  tenant?: string;
  type?: string;
  /** On finished_at: [from, to). */
  finishedFrom?: Date;
  finishedTo?: Date;
}

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

export interface TaskStoreOptions {
  maxBatchSize?: number;
  maxConcurrentFlushes?: number;
  /** Observes the size of every multi-row insert (metrics). */
  onBatch?: (kind: 'insert', size: number) => void;
}

// An idempotency key already taken makes its row a no-op: RETURNING tells which rows were new.
// The rows come as one JSON parameter (one JSON.stringify, instead of one escaped array per
// column); `LIMIT <row count>` changes no result but tells the planner how many rows to expect.
const INSERT_TASKS = `
  INSERT INTO tasks (id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, updated_at, tenant)
  SELECT id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, created_at, tenant
  FROM jsonb_to_recordset($1::jsonb)
    AS i(id uuid, type text, status text, payload jsonb, priority int, run_at timestamptz, max_attempts int, backoff jsonb, timeout_ms int,
         idempotency_key text, request_hash text, schedule_name text, created_at timestamptz, tenant text)
  LIMIT $2
  ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id`;

/** The tasks of one submission share their creation time: it is formatted once. */
let lastDate: Date | undefined;
let lastIso = '';
const isoOf = (date: Date): string => {
  if (date !== lastDate) {
    lastDate = date;
    lastIso = date.toISOString();
  }
  return lastIso;
};

/** A new task as a row of INSERT_TASKS's JSON parameter. */
const insertRow = (t: NewTask) => ({
  id: t.id,
  type: t.type,
  status: t.status,
  payload: t.payload,
  priority: t.priority,
  run_at: t.runAt,
  max_attempts: t.maxAttempts,
  backoff: t.backoff,
  timeout_ms: t.timeoutMs,
  idempotency_key: t.idempotencyKey,
  request_hash: t.requestHash,
  schedule_name: t.scheduleName ?? null,
  created_at: isoOf(t.createdAt),
  tenant: t.tenant,
});

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

/** An UnfinishedTask's columns, as an UPDATE of `tasks t` returns them. */
const RETURNED_TASK_COLUMNS = UNFINISHED_TASK_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ');

function selectionSql(selection: TaskSelection): { where: string; params: unknown[] } {
  const params: unknown[] = [selection.statuses];
  const clauses = ['status = ANY($1::text[])'];
  if (selection.ids) {
    params.push(selection.ids);
    clauses.push(`id = ANY($${params.length}::uuid[])`);
  }
  if (selection.tenant !== undefined) {
    params.push(selection.tenant);
    clauses.push(`tenant = $${params.length}`);
  }
  if (selection.type) {
    params.push(selection.type);
    clauses.push(`type = $${params.length}`);
  }
  if (selection.finishedFrom) {
    params.push(selection.finishedFrom);
    clauses.push(`finished_at >= $${params.length}`);
  }
  if (selection.finishedTo) {
    params.push(selection.finishedTo);
    clauses.push(`finished_at < $${params.length}`);
  }
  return { where: clauses.join(' AND '), params };
}

/**
 * The write path for tasks: submissions, lifecycle changes (requeue, cancel, delete),
 * retention and the reconciler's repairs. Concurrent submissions are group-committed: under
 * load, hundreds share one statement. The worker's attempt records go through AttemptLog.
 */
export class TaskStore {
  private readonly inserts: BatchWriter<NewTask, boolean>;

  constructor(
    private readonly dataSource: DataSource,
    options: TaskStoreOptions = {},
  ) {
    // One statement in flight: the next batch gathers behind it, so batches grow with load.
    const batching = { maxBatchSize: options.maxBatchSize ?? 500, maxConcurrentFlushes: options.maxConcurrentFlushes ?? 1 };
    this.inserts = new BatchWriter((rows) => this.insertTasks(rows), { ...batching, onFlush: (n) => options.onBatch?.('insert', n) });
  }

  /**
   * Commits one new task (batched with concurrent submissions). Resolves false when its
   * idempotency key is already taken: nothing was written.
   */
  createTask(task: NewTask): Promise<boolean> {
    return this.inserts.write(task);
  }

  /** Commits many new tasks in one statement; for each, whether it was new. */
  async insertTasks(tasks: NewTask[]): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    const rows = await preparedRowsOf<{ id: string }>(this.dataSource, 'taskq_insert_tasks_json', INSERT_TASKS, [JSON.stringify(tasks.map(insertRow)), tasks.length]);
    const inserted = new Set(rows.map((row) => row.id));
    return tasks.map((t) => inserted.has(t.id));
  }

  /**
   * Puts the selected tasks back to `queued` with a fresh attempt budget; their history
   * stays and new attempts are numbered after it. Returns what is needed to queue them.
   */
  async requeueTasks(selection: TaskSelection, limit: number): Promise<RequeuedTask[]> {
    const { where, params } = selectionSql(selection);
    params.push(limit);
    const rows = await rowsOf<{
      id: string; type: string; payload: unknown; priority: number | null; max_attempts: number;
      backoff: BackoffPolicy; timeout_ms: number; attempt_base: number; previous_status: TaskStatus; previous_finished_at: Date | null;
    }>(
      this.dataSource,
      `WITH selected AS (
         SELECT id, status, finished_at FROM tasks WHERE ${where} ORDER BY finished_at NULLS LAST, id LIMIT $${params.length} FOR UPDATE SKIP LOCKED
       )
       UPDATE tasks t
          SET status = 'queued', attempt_base = t.attempts_made, next_attempt_at = NULL, finished_at = NULL, run_at = NULL, updated_at = now()
         FROM selected s
        WHERE t.id = s.id
       RETURNING t.id, t.type, t.payload, t.priority, t.max_attempts, t.backoff, t.timeout_ms, t.attempt_base,
                 s.status AS previous_status, s.finished_at AS previous_finished_at`,
      params,
    );
    return rows.map((row) => ({
      id: row.id, type: row.type, payload: row.payload, priority: row.priority, maxAttempts: row.max_attempts,
      backoff: row.backoff, timeoutMs: row.timeout_ms, attemptBase: row.attempt_base,
      previousStatus: row.previous_status, previousFinishedAt: row.previous_finished_at,
    }));
  }

  /** Undoes a requeue whose jobs could not be queued (Redis down). */
  async restoreStatuses(tasks: Array<Pick<RequeuedTask, 'id' | 'previousStatus' | 'previousFinishedAt'>>): Promise<void> {
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
   * status it had, or null when it is unknown, another tenant's or already finished.
   */
  async cancelTask(id: string, tenant?: string): Promise<TaskStatus | null> {
    const rows = await rowsOf<{ status: TaskStatus }>(
      this.dataSource,
      `WITH previous AS (SELECT id, status FROM tasks WHERE id = $1 AND ($2::text IS NULL OR tenant = $2) AND status NOT IN ${TERMINAL} FOR UPDATE)
       UPDATE tasks t SET status = 'cancelled', finished_at = date_trunc('milliseconds', now()), next_attempt_at = NULL, updated_at = now()
         FROM previous p WHERE t.id = p.id
       RETURNING p.status`,
      [id, tenant ?? null],
    );
    return rows[0]?.status ?? null;
  }

  /** Deletes the selected tasks with their attempts, at most `limit`; returns what was deleted. */
  async deleteTasks(selection: TaskSelection, limit: number): Promise<Array<{ id: string; type: string }>> {
    const { where, params } = selectionSql(selection);
    params.push(limit);
    return rowsOf<{ id: string; type: string }>(
      this.dataSource,
      `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE ${where} LIMIT $${params.length} FOR UPDATE SKIP LOCKED) RETURNING id, type`,
      params,
    );
  }

  /**
   * Retention: deletes up to `limit` tasks of the given statuses that finished before the
   * cutoff, their attempts with them (ON DELETE CASCADE). One short statement; rows another
   * transaction holds are skipped, so it never waits on the live system.
   */
  async deleteExpiredTasks(selection: ExpiredTaskSelection): Promise<ExpiredTaskDeletion> {
    // Every part of the statement sees the same snapshot: the attempts are counted before the cascade removes them.
    const rows = await rowsOf<{ tasks: number; attempts: number; dead_task_ids: string[] }>(
      this.dataSource,
      `WITH expired AS (
         SELECT id FROM tasks WHERE status = ANY($1::text[]) AND finished_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED
       ), removed AS (
         DELETE FROM tasks t USING expired e WHERE t.id = e.id RETURNING t.id, t.status
       )
       SELECT (SELECT count(*) FROM removed)::int AS tasks,
              (SELECT count(*) FROM task_attempts a JOIN removed r ON r.id = a.task_id)::int AS attempts,
              (SELECT coalesce(array_agg(id::text), '{}'::text[]) FROM removed WHERE status = 'dead') AS dead_task_ids`,
      [selection.statuses, selection.finishedBefore, selection.limit],
    );
    const row = rows[0];
    return { tasks: row?.tasks ?? 0, attempts: row?.attempts ?? 0, deadTaskIds: row?.dead_task_ids ?? [] };
  }

  /** Undoes a submission whose job could not be queued (Redis down), so no client sees a ghost task. */
  async deleteUnstartedTasks(ids: string[]): Promise<void> {
    await this.dataSource.query(`DELETE FROM tasks WHERE id = ANY($1::uuid[]) AND attempts_made = 0`, [ids]);
  }

  /**
   * The reconciler found these active tasks without their job in Redis (lost with Redis's
   * data, worker gone): each goes back to `queued`, and its running attempt is recorded as
   * `interrupted` with `error`, outside the task's budget (attempt_base + 1, as
   * AttemptLog.release does): Redis losing data is not the task's failure. Only tasks
   * unchanged since the reconciler read them are touched. Returns them as they are now.
   */
  async releaseLostAttempts(lost: LostAttempt[], release: { error: string; at: Date }): Promise<UnfinishedTask[]> {
    if (lost.length === 0) return [];
    const rows = await rowsOf<UnfinishedTaskRow>(
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
       RETURNING ${RETURNED_TASK_COLUMNS}`,
      [...lostAttemptParams(lost), release.at, release.error],
    );
    return rows.map(unfinishedTaskOf);
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
    const rows = await rowsOf<UnfinishedTaskRow & { dead: boolean }>(
      this.dataSource,
      `WITH ${unchangedActiveTasks('task', 't.id, t.attempts_made - t.attempt_base >= t.max_attempts AS spent')},
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
       RETURNING ${RETURNED_TASK_COLUMNS}, k.spent AS dead`,
      [...lostAttemptParams(runs), abandon.at, abandon.error],
    );
    return rows.map((row) => (row.dead ? { dead: true, id: row.id, type: row.type } : { dead: false, task: unfinishedTaskOf(row) }));
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

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await this.inserts.drain();
  }
}
