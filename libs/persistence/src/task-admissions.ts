import type { DataSource } from 'typeorm';
import type { BackoffPolicy, TaskStatus } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';
import { preparedRowsOf } from './rows-of';
import { isoOf } from './iso-time';

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
  /** Where its terminal state is POSTed; absent or null: nowhere. */
  callbackUrl?: string | null;
  /** Millisecond precision on purpose: list cursors round-trip through JavaScript dates. */
  createdAt: Date;
}

export interface TaskAdmissionsOptions {
  maxBatchSize?: number;
  maxConcurrentFlushes?: number;
  /** Observes the size of every multi-row insert (metrics). */
  onBatch?: (kind: 'insert', size: number) => void;
}

// An idempotency key already taken makes its row a no-op: RETURNING tells which rows were new.
// The rows come as one JSON parameter (one JSON.stringify, instead of one escaped array per
// column); `LIMIT <row count>` changes no result but tells the planner how many rows to expect.
const INSERT_TASKS = `
  INSERT INTO tasks (id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, updated_at, tenant, callback_url)
  SELECT id, type, status, payload, priority, run_at, max_attempts, backoff, timeout_ms, idempotency_key, request_hash, schedule_name, created_at, created_at, tenant, callback_url
  FROM jsonb_to_recordset($1::jsonb)
    AS i(id uuid, type text, status text, payload jsonb, priority int, run_at timestamptz, max_attempts int, backoff jsonb, timeout_ms int,
         idempotency_key text, request_hash text, schedule_name text, created_at timestamptz, tenant text, callback_url text)
  LIMIT $2
  ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id`;


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
  callback_url: t.callbackUrl ?? null,
});

/**
 * The writes of admission: new tasks, and the withdrawal of those whose job could not be
 * queued. Concurrent submissions are group-committed: under load, hundreds share one statement.
 */
export class TaskAdmissions {
  private readonly inserts: BatchWriter<NewTask, boolean>;

  constructor(
    private readonly dataSource: DataSource,
    options: TaskAdmissionsOptions = {},
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
    const rows = await preparedRowsOf<{ id: string }>(this.dataSource, 'taskq_insert_tasks_cb', INSERT_TASKS, [JSON.stringify(tasks.map(insertRow)), tasks.length]);
    const inserted = new Set(rows.map((row) => row.id));
    return tasks.map((t) => inserted.has(t.id));
  }

  /** Undoes a submission whose job could not be queued (Redis down), so no client sees a ghost task. */
  async deleteUnstartedTasks(ids: string[]): Promise<void> {
    await this.dataSource.query(`DELETE FROM tasks WHERE id = ANY($1::uuid[]) AND attempts_made = 0`, [ids]);
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await this.inserts.drain();
  }
}
