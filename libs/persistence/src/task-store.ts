import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';

export interface NewTask {
  id: string;
  type: string;
  status: TaskStatus.Queued | TaskStatus.Delayed;
  payload: unknown;
  priority: number | null;
  runAt: Date | null;
  maxAttempts: number;
  /** Millisecond precision on purpose: list cursors round-trip through JavaScript dates. */
  createdAt: Date;
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
  /** The task's status after this attempt: completed, retrying or dead. */
  taskStatus: TaskStatus.Completed | TaskStatus.Retrying | TaskStatus.Dead;
  result: unknown;
  error: string | null;
  finishedAt: Date;
  durationMs: number;
  nextAttemptAt: Date | null;
}

export interface TaskStoreOptions {
  maxBatchSize?: number;
  maxConcurrentFlushes?: number;
  /** Observes the size of every multi-row write (metrics). */
  onBatch?: (kind: 'insert' | 'start' | 'finish', size: number) => void;
}

const TERMINAL = `('completed','dead','cancelled')`;

const INSERT_TASKS = `
  INSERT INTO tasks (id, type, status, payload, priority, run_at, max_attempts, created_at, updated_at)
  SELECT id, type, status, payload, priority, run_at, max_attempts, created_at, created_at
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::int[], $6::timestamptz[], $7::int[], $8::timestamptz[])
    AS i(id, type, status, payload, priority, run_at, max_attempts, created_at)`;

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

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * The only write path for tasks and attempts. Concurrent calls are group-committed:
 * under load, hundreds of submissions or attempt records share one statement.
 */
export class TaskStore {
  private readonly inserts: BatchWriter<NewTask, void>;
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

  /** Commits one new task (batched with concurrent submissions). */
  createTask(task: NewTask): Promise<void> {
    return this.inserts.write(task);
  }

  /** Commits many new tasks in one statement. */
  async insertTasks(tasks: NewTask[]): Promise<void[]> {
    if (tasks.length === 0) return [];
    await this.dataSource.query(INSERT_TASKS, [
      tasks.map((t) => t.id),
      tasks.map((t) => t.type),
      tasks.map((t) => t.status),
      tasks.map((t) => JSON.stringify(t.payload)),
      tasks.map((t) => t.priority),
      tasks.map((t) => t.runAt),
      tasks.map((t) => t.maxAttempts),
      tasks.map((t) => t.createdAt),
    ]);
    return tasks.map(() => undefined);
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

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([this.inserts.drain(), this.starts.drain(), this.finishes.drain()]);
  }

  private async startAttempts(starts: AttemptStart[]): Promise<boolean[]> {
    // The same attempt twice in one statement would make ON CONFLICT touch a row twice.
    const unique = [...new Map(starts.map((s) => [`${s.taskId}:${s.attempt}`, s])).values()];
    const rows = (await this.dataSource.query(START_ATTEMPTS, [
      unique.map((s) => s.taskId),
      unique.map((s) => s.attempt),
      unique.map((s) => s.workerId),
      unique.map((s) => s.startedAt),
    ])) as Array<{ id: string }>;
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
