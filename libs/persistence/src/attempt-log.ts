import type { DataSource } from 'typeorm';
import { TaskStatus, type AttemptOutcome, type BackoffPolicy, type TaskEventSink, type TaskStatusEvent } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';
import { preparedRowsOf, rowsOf } from './rows-of';
import { TERMINAL_STATUSES_SQL as TERMINAL, budgetSpentSql } from './status-sql';

const SPENT = budgetSpentSql('t');

export interface AttemptStart {
  taskId: string;
  workerId: string;
  /** Also what makes a retried start recognise its own row: keep it across tries. */
  startedAt: Date;
  /** A try after a failure, which may have committed: look for the row it may have written. */
  retried?: boolean;
}

/** What a run needs of its task: read from PostgreSQL as the run starts, so jobs carry only the task's id. */
export interface TaskToRun {
  payload: unknown;
  backoff: BackoffPolicy;
  timeoutMs: number;
}

/** What PostgreSQL decided when a worker took a task's job. `lostRuns`: earlier runs found cut short. */
export type AttemptStartResult =
  /** Run the handler as attempt `number`; the current budget began after attempt `attemptBase`. */
  | { kind: 'run'; number: number; attemptBase: number; maxAttempts: number; lostRuns: number; task: TaskToRun }
  /** Finished, cancelled or unknown: nothing to run. */
  | { kind: 'skip'; lostRuns: number }
  /** Lost runs spent the attempt budget: the task is now dead, with {@link LOST_RUN_ERROR}. */
  | { kind: 'spent'; lostRuns: number };

export interface AttemptFinish {
  taskId: string;
  /** The number {@link AttemptLog.start} gave this run. */
  attempt: number;
  outcome: Exclude<AttemptOutcome, AttemptOutcome.Running | AttemptOutcome.Interrupted | AttemptOutcome.Lost>;
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

/**
 * `released`: the task is queued again, the attempt free. `finished`: recorded, but the task had
 * finished meanwhile (cancelled). `superseded`: another run has taken over (this one was lost).
 */
export type AttemptReleaseResult = 'released' | 'finished' | 'superseded';

export interface AttemptLogOptions {
  /** Most attempts one statement carries (default 500). */
  maxBatchSize?: number;
  /**
   * Statements in flight at once per kind of write (default 1): while one runs, the next batch
   * gathers, so batches grow with load and a lone write still goes out at once.
   */
  maxConcurrentFlushes?: number;
  /**
   * How long a write that finds its writer idle waits for others at moderate rates (default 5 ms): then
   * a statement carries a few attempts instead of one (see {@link BatchWriter}).
   */
  lingerMs?: number;
  /** Observes the size of every multi-row write (metrics). */
  onBatch?: (kind: 'start' | 'finish', size: number) => void;
  /** Hears the status changes each batch committed, after its commit (live events). */
  events?: TaskEventSink;
}

/** Recorded on a run found cut short, and as the last error of a task whose budget such runs spent. */
export const LOST_RUN_ERROR = 'its worker stopped before recording an outcome (killed, crashed, or its lock on the job expired)';

/*
 * Both batch statements read their rows from one JSON parameter (cheaper to build than one
 * array per column), and are written so that their cost grows with the batch, never with the
 * tables or with the batch squared (they run as generic plans, see rows-of.ts):
 * - `LIMIT <row count>` changes no result: it tells the planner to expect a few rows, not
 *   json_to_recordset's fixed 100, so it probes tasks by primary key instead of scanning the
 *   table (1 ms instead of 5 ms for 20 starts on a table of 20,000 tasks);
 * - attempts are found through the partial index of running attempts (few: about the
 *   workers' total concurrency), whatever the size of the table when the plan was made;
 * - the task's update joins the rows the attempts' update returned, by the task's key, rather
 *   than looping over the batch for each (13 ms instead of 1 ms for 200 outcomes).
 *
 * Starting a run, in one statement per batch. Every run gets its own attempt row, numbered
 * after every run recorded so far (tasks.attempts_made). A row still `running` belongs to a
 * run whose worker stopped without an outcome (a new run only starts once BullMQ has given up
 * on the old lock): it becomes `lost`, and it stays charged to the budget (attempts_made -
 * attempt_base). With the budget spent, the task is dead instead of running again.
 *
 * A start retried after its commit went through but its answer was lost (PostgreSQL went away
 * at that moment) finds its own row, `running` with the same worker and start time, and runs
 * as that attempt rather than marking it lost. Only retries look for it: a first try has none.
 *
 * No row lock is taken up front: the UPDATE of tasks locks each row and, if another
 * transaction changed it meanwhile (a cancel, a requeue), re-checks it as it is now.
 */
const START_ATTEMPTS = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS i(task_id uuid, worker_id text, started_at timestamptz, retried boolean) LIMIT $3
  ), own AS (
    SELECT a.task_id, a.number FROM input i JOIN task_attempts a ON a.task_id = i.task_id
     WHERE i.retried AND a.outcome = 'running' AND a.worker_id = i.worker_id AND a.started_at = i.started_at
  ), lost AS (
    -- A running row exists only while its task is active, or once the task was cancelled under it.
    UPDATE task_attempts a SET outcome = 'lost', finished_at = i.started_at, error = $2::text
      FROM input i JOIN tasks t ON t.id = i.task_id
     WHERE t.status IN ('active', 'cancelled') AND a.task_id = i.task_id AND a.outcome = 'running'
       AND NOT (a.worker_id = i.worker_id AND a.started_at = i.started_at AND t.status = 'active')
    RETURNING a.task_id
  ), started AS (
    UPDATE tasks t
       SET status = CASE WHEN ${SPENT} THEN 'dead' ELSE 'active' END,
           attempts_made = t.attempts_made + CASE WHEN ${SPENT} THEN 0 ELSE 1 END,
           last_error = CASE WHEN ${SPENT} THEN $2::text ELSE t.last_error END,
           finished_at = CASE WHEN ${SPENT} THEN i.started_at END,
           started_at = COALESCE(t.started_at, i.started_at), next_attempt_at = NULL, updated_at = i.started_at
      FROM input i
     WHERE t.id = i.task_id AND t.status NOT IN ${TERMINAL} AND NOT EXISTS (SELECT 1 FROM own o WHERE o.task_id = t.id)
    RETURNING t.id, t.type, t.tenant, t.status, t.attempts_made, t.attempt_base, t.max_attempts, t.payload, t.backoff, t.timeout_ms
  ), attempt AS (
    INSERT INTO task_attempts (task_id, number, worker_id, started_at, outcome, type, tenant)
    SELECT s.id, s.attempts_made, i.worker_id, i.started_at, 'running', s.type, s.tenant FROM started s JOIN input i ON i.task_id = s.id WHERE s.status = 'active'
  )
  SELECT i.task_id AS "taskId",
         CASE WHEN s.id IS NOT NULL THEN CASE WHEN s.status = 'dead' THEN 'spent' ELSE 'run' END
              WHEN r.id IS NOT NULL THEN 'run'
              ELSE 'skip' END AS kind,
         COALESCE(s.attempts_made, o.number) AS number, COALESCE(s.attempt_base, r.attempt_base) AS "attemptBase",
         COALESCE(s.max_attempts, r.max_attempts) AS "maxAttempts",
         COALESCE(s.payload, r.payload) AS payload, COALESCE(s.backoff, r.backoff) AS backoff, COALESCE(s.timeout_ms, r.timeout_ms) AS "timeoutMs",
         COALESCE(l.runs, 0)::int AS "lostRuns", s.type, s.tenant
    FROM input i
    LEFT JOIN started s ON s.id = i.task_id
    LEFT JOIN (SELECT task_id, count(*) AS runs FROM lost GROUP BY task_id) l ON l.task_id = i.task_id
    LEFT JOIN own o ON o.task_id = i.task_id
    LEFT JOIN tasks r ON r.id = o.task_id AND r.status = 'active'`;

/*
 * Recording an outcome. Only a run still `running` is recorded, and the task follows only
 * while that run is its latest (attempts_made) and the task unfinished: a run that was
 * meanwhile declared lost, or handed back by the reconciler, changes nothing. A retry of a
 * commit that went through finds its outcome already there, and reports it recorded.
 */
const FINISH_ATTEMPTS = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json)
      AS i(task_id uuid, number int, outcome text, error text, result jsonb, task_status text, finished_at timestamptz, duration_ms int, next_attempt_at timestamptz)
     LIMIT $2
  ), attempt AS (
    UPDATE task_attempts a
       SET finished_at = i.finished_at, duration_ms = i.duration_ms, outcome = i.outcome, error = i.error
      FROM input i
     WHERE a.task_id = i.task_id AND a.number = i.number AND a.outcome = 'running'
    RETURNING a.task_id, a.number, i.task_status, i.result, i.error, i.finished_at, i.next_attempt_at, i.duration_ms
  ), task AS (
    UPDATE tasks t
       SET status = x.task_status,
           result = COALESCE(x.result, t.result),
           last_error = COALESCE(x.error, t.last_error),
           finished_at = CASE WHEN x.task_status IN ${TERMINAL} THEN x.finished_at ELSE NULL END,
           next_attempt_at = x.next_attempt_at,
           last_attempt_ms = x.duration_ms,
           updated_at = x.finished_at
      FROM attempt x
     WHERE t.id = x.task_id AND t.attempts_made = x.number AND t.status NOT IN ${TERMINAL}
    RETURNING t.id, t.type, t.tenant
  )
  SELECT i.task_id AS "taskId", tk.type, tk.tenant
    FROM input i
    LEFT JOIN task tk ON tk.id = i.task_id
   WHERE EXISTS (SELECT 1 FROM attempt x WHERE x.task_id = i.task_id)
      OR EXISTS (SELECT 1 FROM task_attempts a
                  WHERE a.task_id = i.task_id AND a.number = i.number AND a.outcome = i.outcome AND a.finished_at = i.finished_at)`;

/*
 * Handing an attempt back at a shutdown deadline: recorded `interrupted`, and the task queued
 * again with one attempt outside its budget (attempt_base + 1), so it costs nothing. The
 * trailing checks read the state before this statement: they tell a retry whose first try
 * committed (released) from a task that finished meanwhile or a run that was superseded.
 */
const RELEASE_ATTEMPT = `
  WITH attempt AS (
    UPDATE task_attempts SET finished_at = $3, duration_ms = $4, outcome = 'interrupted', error = $5
     WHERE task_id = $1 AND number = $2 AND outcome = 'running'
    RETURNING task_id
  ), released AS (
    UPDATE tasks SET status = 'queued', attempt_base = attempt_base + 1, updated_at = $3
     WHERE id = $1 AND status = 'active' AND attempts_made = $2 AND EXISTS (SELECT 1 FROM attempt)
    RETURNING id
  )
  SELECT CASE
           WHEN EXISTS (SELECT 1 FROM released) THEN 'released'
           WHEN EXISTS (SELECT 1 FROM task_attempts a JOIN tasks t ON t.id = a.task_id
                         WHERE a.task_id = $1 AND a.number = $2 AND a.outcome = 'interrupted' AND a.finished_at = $3 AND t.status = 'queued') THEN 'released'
           WHEN EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND status IN ${TERMINAL}) THEN 'finished'
           ELSE 'superseded'
         END AS result`;

/**
 * Splits a batch into rounds in which no key repeats (each round is one statement): the same
 * task twice in one statement would make it touch a row twice.
 */
function rounds<T>(items: T[], key: (item: T) => string): T[][] {
  const result: T[][] = [];
  const seen: Array<Set<string>> = [];
  for (const item of items) {
    const k = key(item);
    let index = seen.findIndex((keys) => !keys.has(k));
    if (index === -1) {
      index = result.length;
      result.push([]);
      seen.push(new Set());
    }
    result[index]?.push(item);
    seen[index]?.add(k);
  }
  return result;
}

/**
 * The worker's writes: the start and the outcome of every run of a handler, group-committed
 * (under load, many attempts share one statement). Each statement is safe to retry after a
 * failure that left it unclear whether it committed.
 */
export class AttemptLog {
  private readonly starts: BatchWriter<AttemptStart, AttemptStartResult>;
  private readonly finishes: BatchWriter<AttemptFinish, boolean>;

  private readonly events?: TaskEventSink;

  constructor(
    private readonly dataSource: DataSource,
    options: AttemptLogOptions = {},
  ) {
    this.events = options.events;
    const batching = { maxBatchSize: options.maxBatchSize ?? 500, maxConcurrentFlushes: options.maxConcurrentFlushes ?? 1, lingerMs: options.lingerMs ?? 5 };
    this.starts = new BatchWriter((rows) => this.startAll(rows), { ...batching, onFlush: (n) => options.onBatch?.('start', n) });
    this.finishes = new BatchWriter((rows) => this.finishAll(rows), { ...batching, onFlush: (n) => options.onBatch?.('finish', n) });
  }

  /** Marks the task active and records a new attempt, unless it must not run (see {@link AttemptStartResult}). */
  start(start: AttemptStart): Promise<AttemptStartResult> {
    return this.starts.write(start);
  }

  /** Records an attempt's outcome and the task's resulting status. False: this run was superseded, nothing changed. */
  finish(finish: AttemptFinish): Promise<boolean> {
    return this.finishes.write(finish);
  }

  /** Records an attempt as `interrupted` and queues its task again without spending an attempt. */
  async release(release: AttemptRelease): Promise<AttemptReleaseResult> {
    const rows = await rowsOf<{ result: AttemptReleaseResult }>(this.dataSource, RELEASE_ATTEMPT, [
      release.taskId, release.attempt, release.finishedAt, release.durationMs, release.error,
    ]);
    return rows[0]?.result ?? 'superseded';
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([this.starts.drain(), this.finishes.drain()]);
  }

  private async startAll(starts: AttemptStart[]): Promise<AttemptStartResult[]> {
    const decided = new Map<AttemptStart, AttemptStartResult>();
    for (const round of rounds(starts, (s) => s.taskId)) {
      const input = round.map((s) => ({ task_id: s.taskId, worker_id: s.workerId, started_at: s.startedAt, retried: s.retried === true }));
      const rows = await preparedRowsOf<StartRow>(this.dataSource, 'taskq_start_attempts', START_ATTEMPTS, [JSON.stringify(input), LOST_RUN_ERROR, input.length]);
      const byTask = new Map(rows.map((row) => [row.taskId, row]));
      const events: TaskStatusEvent[] = [];
      for (const start of round) {
        const row = byTask.get(start.taskId);
        decided.set(start, startResultOf(row));
        if (row?.tenant != null && row.type != null && row.kind !== 'skip') events.push(startEventOf(row, row.type, row.tenant, start));
      }
      if (events.length > 0) this.events?.publish(events);
    }
    return starts.map((start) => decided.get(start) ?? { kind: 'skip', lostRuns: 0 });
  }

  private async finishAll(finishes: AttemptFinish[]): Promise<boolean[]> {
    const recorded = new Set<AttemptFinish>();
    for (const round of rounds(finishes, (f) => f.taskId)) {
      const input = round.map((f) => ({
        task_id: f.taskId,
        number: f.attempt,
        outcome: f.outcome,
        error: f.error,
        result: f.result ?? null,
        task_status: f.taskStatus,
        finished_at: f.finishedAt,
        duration_ms: f.durationMs,
        next_attempt_at: f.nextAttemptAt,
      }));
      const rows = await preparedRowsOf<{ taskId: string; type: string | null; tenant: string | null }>(this.dataSource, 'taskq_finish_attempts', FINISH_ATTEMPTS, [
        JSON.stringify(input),
        input.length,
      ]);
      const byTask = new Map(rows.map((row) => [row.taskId, row]));
      const events: TaskStatusEvent[] = [];
      for (const finish of round) {
        const row = byTask.get(finish.taskId);
        if (!row) continue;
        recorded.add(finish);
        // Only a task this statement changed is announced (not a retried commit's, nor a cancelled task's attempt).
        if (row.tenant != null && row.type != null) events.push(finishEventOf(finish, row.type, row.tenant));
      }
      if (events.length > 0) this.events?.publish(events);
    }
    return finishes.map((finish) => recorded.has(finish));
  }
}

interface StartRow {
  taskId: string;
  kind: AttemptStartResult['kind'];
  number: number;
  attemptBase: number;
  maxAttempts: number;
  lostRuns: number;
  payload: unknown;
  backoff: BackoffPolicy;
  timeoutMs: number;
  /** Set only when this statement changed the task (a new run, or dead by lost runs). */
  type: string | null;
  tenant: string | null;
}

function startEventOf(row: StartRow, type: string, tenant: string, start: AttemptStart): TaskStatusEvent {
  const dead = row.kind === 'spent';
  return {
    kind: 'status',
    taskId: row.taskId,
    type,
    tenant,
    status: dead ? TaskStatus.Dead : TaskStatus.Active,
    attempt: dead ? null : row.number,
    error: dead ? LOST_RUN_ERROR : null,
    at: start.startedAt.toISOString(),
  };
}

function finishEventOf(finish: AttemptFinish, type: string, tenant: string): TaskStatusEvent {
  return { kind: 'status', taskId: finish.taskId, type, tenant, status: finish.taskStatus, attempt: finish.attempt, error: finish.error, at: finish.finishedAt.toISOString() };
}

function startResultOf(row: StartRow | undefined): AttemptStartResult {
  if (!row) return { kind: 'skip', lostRuns: 0 };
  if (row.kind !== 'run') return { kind: row.kind, lostRuns: row.lostRuns };
  const { number, attemptBase, maxAttempts, lostRuns, payload, backoff, timeoutMs } = row;
  return { kind: 'run', number, attemptBase, maxAttempts, lostRuns, task: { payload, backoff, timeoutMs } };
}
