import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus, type BackoffPolicy } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';
import type { LostAttempt, UnfinishedTask } from './unfinished-task';
import { UNFINISHED_TASK_COLUMNS, unfinishedTaskOf, type UnfinishedTaskRow } from './unfinished-task-row';

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

export interface AttemptStart {
  taskId: string;
  attempt: number;
  workerId: string;
  startedAt: Date;
}

export interface AttemptFinish {
  taskId: string;
  attempt: number;
  outcome: Exclude<AttemptOutcome, AttemptOutcome.Running>;
  /** The task's status after this attempt (cancelled: already set by the API, kept as is). */
  taskStatus: TaskStatus.Completed | TaskStatus.Retrying | TaskStatus.Dead | TaskStatus.Cancelled;
  result: unknown;
  error: string | null;
  finishedAt: Date;
  durationMs: number;
  nextAttemptAt: Date | null;
}

/** An attempt its worker stopped at its shutdown deadline; the task goes back to the queue. */
export interface AttemptRelease {
  taskId: string;
  attempt: number;
  error: string;
  finishedAt: Date;
  durationMs: number;
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
  /** Observes the size of every multi-row write (metrics). */
  onBatch?: (kind: 'insert' | 'start' | 'finish', size: number) => void;
}

const TERMINAL = `('completed','dead','cancelled')`;

// An idempotency key already taken makes its row a no-op: RETURNING tells which rows were new.
const INSERT_TASKS = `
  INSERT INTO tasks (id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, updated_at, tenant)
  SELECT id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, created_at, tenant
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::int[], $6::timestamptz[], $7::int[], $8::jsonb[], $9::int[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::text[])
    AS i(id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, tenant)
  ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id`;

// One statement: the task turns active and its attempt row appears, or neither (the task was
// already finished or cancelled). A redelivered attempt (stalled worker) overwrites its row.
const START_ATTEMPTS = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[]) AS i(task_id, number, worker_id, started_at)
  ), runnable AS (
    UPDATE tasks t
       SET status = 'active', attempts_made = GREATEST(t.attempts_made, i.number),
           started_at = COALESCE(t.started_at, i.started_at), next_attempt_at = NULL, updated_at = i.started_at
      FROM input i
     WHERE t.id = i.task_id AND t.status NOT IN ${TERMINAL}
    RETURNING t.id
  ), attempt AS (
    INSERT INTO task_attempts (task_id, number, worker_id, started_at, outcome)
    SELECT i.task_id, i.number, i.worker_id, i.started_at, 'running' FROM input i JOIN runnable r ON r.id = i.task_id
    ON CONFLICT (task_id, number) DO UPDATE
      SET worker_id = EXCLUDED.worker_id, started_at = EXCLUDED.started_at,
          finished_at = NULL, duration_ms = NULL, outcome = 'running', error = NULL
  )
  SELECT id FROM runnable`;

const FINISH_ATTEMPTS = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::timestamptz[], $8::int[], $9::timestamptz[])
      AS i(task_id, number, outcome, error, result, task_status, finished_at, duration_ms, next_attempt_at)
  ), attempt AS (
    UPDATE task_attempts a
       SET finished_at = i.finished_at, duration_ms = i.duration_ms, outcome = i.outcome, error = i.error
      FROM input i
     WHERE a.task_id = i.task_id AND a.number = i.number
  )
  UPDATE tasks t
     SET status = i.task_status,
         result = COALESCE(i.result, t.result),
         last_error = COALESCE(i.error, t.last_error),
         finished_at = CASE WHEN i.task_status IN ${TERMINAL} THEN i.finished_at ELSE NULL END,
         next_attempt_at = i.next_attempt_at,
         updated_at = i.finished_at
    FROM input i
   WHERE t.id = i.task_id AND t.status NOT IN ${TERMINAL}`;

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
 * Runs a statement and returns its rows. TypeORM's `DataSource.query` answers UPDATE and
 * DELETE with `[rows, count]` but SELECT and INSERT with `rows`; the structured result has
 * the rows in `records` for every kind of statement.
 */
async function rowsOf<T>(dataSource: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return ((await runner.query(sql, params, true)) as { records: T[] }).records;
  } finally {
    await runner.release();
  }
}

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * The only write path for tasks and attempts. Concurrent calls are group-committed:
 * under load, hundreds of submissions or attempt records share one statement.
 */
export class TaskStore {
  private readonly inserts: BatchWriter<NewTask, boolean>;
  private readonly starts: BatchWriter<AttemptStart, boolean>;
  private readonly finishes: BatchWriter<AttemptFinish, void>;

  constructor(
    private readonly dataSource: DataSource,
    options: TaskStoreOptions = {},
  ) {
    const batching = { maxBatchSize: options.maxBatchSize ?? 500, maxConcurrentFlushes: options.maxConcurrentFlushes ?? 4 };
    this.inserts = new BatchWriter((rows) => this.insertTasks(rows), { ...batching, onFlush: (n) => options.onBatch?.('insert', n) });
    this.starts = new BatchWriter((rows) => this.startAttempts(rows), { ...batching, onFlush: (n) => options.onBatch?.('start', n) });
    this.finishes = new BatchWriter((rows) => this.finishAttempts(rows), { ...batching, onFlush: (n) => options.onBatch?.('finish', n) });
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
    const rows = await rowsOf<{ id: string }>(this.dataSource, INSERT_TASKS, [
      tasks.map((t) => t.id),
      tasks.map((t) => t.type),
      tasks.map((t) => t.status),
      tasks.map((t) => JSON.stringify(t.payload)),
      tasks.map((t) => t.priority),
      tasks.map((t) => t.runAt),
      tasks.map((t) => t.maxAttempts),
      tasks.map((t) => JSON.stringify(t.backoff)),
      tasks.map((t) => t.timeoutMs),
      tasks.map((t) => t.idempotencyKey),
      tasks.map((t) => t.requestHash),
      tasks.map((t) => t.scheduleName ?? null),
      tasks.map((t) => t.createdAt),
      tasks.map((t) => t.tenant),
    ]);
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
   * Marks the task active and records the attempt's start.
   * Resolves false when the task must not run: finished, cancelled or unknown.
   */
  startAttempt(start: AttemptStart): Promise<boolean> {
    return this.starts.write(start);
  }

  /** Records an attempt's outcome and the task's resulting status in one statement. */
  finishAttempt(finish: AttemptFinish): Promise<void> {
    return this.finishes.write(finish);
  }

  /**
   * Records an attempt as `interrupted` and puts its task back to `queued` with one more
   * attempt outside its budget (attempt_base + 1), so the next attempt gets the next number
   * and the interruption costs the task nothing. False when the task is no longer active
   * (cancelled meanwhile): then only the attempt is recorded.
   */
  async releaseAttempt(release: AttemptRelease): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(
      this.dataSource,
      `WITH attempt AS (
         UPDATE task_attempts SET finished_at = $3, duration_ms = $4, outcome = 'interrupted', error = $5
          WHERE task_id = $1 AND number = $2
       )
       UPDATE tasks SET status = 'queued', attempt_base = attempt_base + 1, updated_at = $3
        WHERE id = $1 AND status = 'active'
       RETURNING id`,
      [release.taskId, release.attempt, release.finishedAt, release.durationMs, release.error],
    );
    return rows.length > 0;
  }

  /**
   * The reconciler found these active tasks without their job in Redis (lost with Redis's
   * data, worker gone): each goes back to `queued`, and its running attempt is recorded as
   * `interrupted` with `error`, outside the task's budget (attempt_base + 1, as
   * {@link releaseAttempt} does). Only tasks unchanged since the reconciler read them
   * (still active, same attempt, same updated_at) are touched, so a worker that wrote
   * meanwhile wins. Returns the released tasks as they are now.
   */
  async releaseLostAttempts(lost: LostAttempt[], release: { error: string; at: Date }): Promise<UnfinishedTask[]> {
    if (lost.length === 0) return [];
    const columns = UNFINISHED_TASK_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ');
    const rows = await rowsOf<UnfinishedTaskRow>(
      this.dataSource,
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS i(task_id, attempts_made, updated_at)
       ), lost AS (
         SELECT t.id, t.attempts_made,
                EXISTS (SELECT 1 FROM task_attempts a WHERE a.task_id = t.id AND a.number = t.attempts_made AND a.outcome = 'running') AS running
           FROM tasks t JOIN input i ON i.task_id = t.id
          WHERE t.status = 'active' AND t.attempts_made = i.attempts_made AND date_trunc('milliseconds', t.updated_at) = i.updated_at
            FOR UPDATE OF t
       ), attempt AS (
         UPDATE task_attempts a SET finished_at = $4, duration_ms = NULL, outcome = 'interrupted', error = $5
           FROM lost l WHERE a.task_id = l.id AND a.number = l.attempts_made AND l.running
       )
       UPDATE tasks t
          SET status = 'queued', attempt_base = t.attempt_base + CASE WHEN l.running THEN 1 ELSE 0 END, next_attempt_at = NULL, updated_at = $4
         FROM lost l
        WHERE t.id = l.id
       RETURNING ${columns}`,
      [lost.map((l) => l.taskId), lost.map((l) => l.attemptsMade), lost.map((l) => l.updatedAt), release.at, release.error],
    );
    return rows.map(unfinishedTaskOf);
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([this.inserts.drain(), this.starts.drain(), this.finishes.drain()]);
  }

  private async startAttempts(starts: AttemptStart[]): Promise<boolean[]> {
    // The same attempt twice in one statement would make ON CONFLICT touch a row twice.
    const unique = [...new Map(starts.map((s) => [`${s.taskId}:${s.attempt}`, s])).values()];
    const rows = await rowsOf<{ id: string }>(this.dataSource, START_ATTEMPTS, [
      unique.map((s) => s.taskId),
      unique.map((s) => s.attempt),
      unique.map((s) => s.workerId),
      unique.map((s) => s.startedAt),
    ]);
    const runnable = new Set(rows.map((row) => row.id));
    return starts.map((s) => runnable.has(s.taskId));
  }

  private async finishAttempts(finishes: AttemptFinish[]): Promise<void[]> {
    const unique = [...new Map(finishes.map((f) => [f.taskId, f])).values()];
    await this.dataSource.query(FINISH_ATTEMPTS, [
      unique.map((f) => f.taskId),
      unique.map((f) => f.attempt),
      unique.map((f) => f.outcome),
      unique.map((f) => f.error),
      unique.map((f) => json(f.result)),
      unique.map((f) => f.taskStatus),
      unique.map((f) => f.finishedAt),
      unique.map((f) => f.durationMs),
      unique.map((f) => f.nextAttemptAt),
    ]);
    return finishes.map(() => undefined);
  }
}
