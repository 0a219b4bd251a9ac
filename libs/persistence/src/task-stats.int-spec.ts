import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { AttemptLog } from './attempt-log';
import { ensureDatabase, openDataSource, runMigrations } from './database';
import { TaskAdmissions } from './task-admissions';
import { StatsTimeoutError, TaskStatsStore, type MinuteCount } from './task-stats';

const db = testDatabase('task_stats');
let dataSource: DataSource;
let admissions: TaskAdmissions;
let attempts: AttemptLog;
let sut: TaskStatsStore;

const T0 = Date.parse('2026-06-01T10:00:00.000Z');
/** T0 plus minutes (fractions allowed). */
const at = (minutes: number): Date => new Date(T0 + Math.round(minutes * 60_000));
const window = { from: at(0), to: at(5) };

type FinishedOutcome = AttemptOutcome.Completed | AttemptOutcome.Failed | AttemptOutcome.TimedOut | AttemptOutcome.Cancelled;

/** One run of a task's handler: it ends with an outcome, is handed back (interrupted), or, with neither, is found lost when the next run starts. */
interface Run {
  startedAt: Date;
  finished?: { outcome: FinishedOutcome; at: Date; taskStatus: TaskStatus.Completed | TaskStatus.Retrying | TaskStatus.Dead | TaskStatus.Cancelled };
  interruptedAt?: Date;
}

/** A task and its runs, written the way the API and the workers write them (TaskAdmissions, AttemptLog). */
async function seed(type: string, tenant: string, runs: Run[]): Promise<void> {
  const id = randomUUID();
  await admissions.createTask({
    id,
    type,
    status: TaskStatus.Queued,
    payload: {},
    priority: null,
    runAt: null,
    maxAttempts: 5,
    backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' },
    timeoutMs: 60_000,
    idempotencyKey: null,
    requestHash: null,
    tenant,
    createdAt: at(-60),
  });
  for (const [index, run] of runs.entries()) {
    const started = await attempts.start({ taskId: id, workerId: `worker-${index}`, startedAt: run.startedAt });
    if (started.kind !== 'run') throw new Error(`run ${index} of ${id} did not start: ${started.kind}`);
    const durationMs = (end: Date): number => end.getTime() - run.startedAt.getTime();
    if (run.finished) {
      const { outcome, at: finishedAt, taskStatus } = run.finished;
      const error = outcome === AttemptOutcome.Completed ? null : 'boom';
      await attempts.finish({ taskId: id, attempt: started.number, outcome, taskStatus, result: null, error, finishedAt, durationMs: durationMs(finishedAt), nextAttemptAt: null });
    } else if (run.interruptedAt) {
      await attempts.release({ taskId: id, attempt: started.number, error: 'shutdown', finishedAt: run.interruptedAt, durationMs: durationMs(run.interruptedAt) });
    }
  }
}

/** A run of `durationMs` that ends at `minutes` with `outcome`. */
const run = (minutes: number, durationMs: number, outcome: FinishedOutcome, taskStatus: NonNullable<Run['finished']>['taskStatus']): Run => ({
  startedAt: new Date(at(minutes).getTime() - durationMs),
  finished: { outcome, at: at(minutes), taskStatus },
});

const sorted = (counts: MinuteCount[]): MinuteCount[] =>
  [...counts].sort((a, b) => `${a.type}|${a.event}|${String(a.minute).padStart(4, '0')}`.localeCompare(`${b.type}|${b.event}|${String(b.minute).padStart(4, '0')}`));

beforeAll(async () => {
  await ensureDatabase({ url: db.url });
  dataSource = await openDataSource({ url: db.url });
  await runMigrations(dataSource);
  admissions = new TaskAdmissions(dataSource);
  attempts = new AttemptLog(dataSource);
  sut = new TaskStatsStore(dataSource);
  const { Completed, Failed, TimedOut, Cancelled } = AttemptOutcome;

  await seed('noop', 'acme', [run(10 / 60, 100, Completed, TaskStatus.Completed)]);
  await seed('noop', 'acme', [run(20 / 60, 40, Failed, TaskStatus.Retrying), run(50 / 60, 300, Completed, TaskStatus.Completed)]);
  await seed('noop', 'globex', [run(2.5, 500, Completed, TaskStatus.Completed)]);
  // Timed out at 3:00, lost (found so when the next run started, at 4:00), failed for good just before the window ends.
  await seed('noop', 'acme', [run(3, 1_000, TimedOut, TaskStatus.Retrying), { startedAt: at(3.5) }, run(5 - 1 / 60_000, 10, Failed, TaskStatus.Dead)]);
  await seed('sleep', 'acme', [run(1, 1_000, Completed, TaskStatus.Completed)]);
  // Outside the window: at its end (exclusive) and just before its start.
  await seed('sleep', 'acme', [run(5, 7, Completed, TaskStatus.Completed)]);
  await seed('sleep', 'acme', [run(-1 / 60_000, 7, Failed, TaskStatus.Dead)]);
  // An attempt handed back at a shutdown, a cancelled one, a run still going: none of them counts.
  await seed('sleep', 'acme', [{ startedAt: at(1.4), interruptedAt: at(1.5) }, run(2, 5, Cancelled, TaskStatus.Cancelled)]);
  await seed('sleep', 'acme', [{ startedAt: at(2) }]);
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

describe(TaskStatsStore.name, () => {
  it("counts every tenant's completed and dead tasks and failed attempts per type and minute, within [from, to)", async () => {
    const { counts } = await sut.read(window);
    expect(sorted(counts)).toEqual([
      { type: 'noop', event: 'completed', minute: 0, count: 2 },
      { type: 'noop', event: 'completed', minute: 2, count: 1 },
      { type: 'noop', event: 'dead', minute: 4, count: 1 },
      { type: 'noop', event: 'failedAttempt', minute: 0, count: 1 },
      { type: 'noop', event: 'failedAttempt', minute: 3, count: 1 },
      { type: 'noop', event: 'failedAttempt', minute: 4, count: 2 },
      { type: 'sleep', event: 'completed', minute: 1, count: 1 },
    ]);
  });

  it('gives p50 and p95 of the run time of the attempts that completed tasks (not of failed ones)', async () => {
    const { durations } = await sut.read(window);
    // noop: 100, 300, 500 ms (interpolated like percentile_cont); sleep: 1000 ms.
    expect(durations.sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: 'noop', p50: 300, p95: 480 },
      { type: 'sleep', p50: 1000, p95: 1000 },
    ]);
  });

  it("counts one tenant's tasks only when given one", async () => {
    const { counts, durations } = await sut.read({ ...window, tenant: 'acme' });
    expect(sorted(counts).filter((count) => count.event === 'completed')).toEqual([
      { type: 'noop', event: 'completed', minute: 0, count: 2 },
      { type: 'sleep', event: 'completed', minute: 1, count: 1 },
    ]);
    expect(durations.find((row) => row.type === 'noop')).toEqual({ type: 'noop', p50: 200, p95: 290 });
    expect(await sut.read({ ...window, tenant: 'nobody' })).toEqual({ counts: [], durations: [] });
  });

  it('fails with StatsTimeoutError, releasing its connection, when a statement outlasts the timeout', async () => {
    const timeoutSetting = `SELECT current_setting('statement_timeout') AS timeout`;
    const before: unknown = await dataSource.query(timeoutSetting);
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await expect(new TaskStatsStore(dataSource, 200).read(window)).rejects.toBeInstanceOf(StatsTimeoutError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    // The timeout was local to that transaction.
    await expect(dataSource.query(timeoutSetting)).resolves.toEqual(before);
    expect((await sut.read(window)).counts.length).toBeGreaterThan(0);
  });

  it('has the covering indexes its statements read: tasks_finished_idx and task_attempts_failed_idx, valid', async () => {
    const indexes = await queryDatabase<{ name: string; definition: string; valid: boolean }>(
      db.url,
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('tasks_finished_idx', 'task_attempts_failed_idx', 'tasks_finished_idx_covering') ORDER BY c.relname`,
    );
    expect(indexes).toEqual([
      { name: 'task_attempts_failed_idx', definition: expect.stringMatching(/ON public\.task_attempts USING btree \(finished_at\) INCLUDE \(type, tenant\) WHERE .*failed.*timed_out.*lost/), valid: true },
      { name: 'tasks_finished_idx', definition: expect.stringMatching(/ON public\.tasks USING btree \(status, finished_at\) INCLUDE \(type, tenant, last_attempt_ms\) WHERE \(finished_at IS NOT NULL\)$/), valid: true },
    ]);
  });

  it('reads the type and tenant the workers copy onto each attempt, and the run time they keep on the task', async () => {
    const rows = await queryDatabase<{ type: string; tenant: string; outcome: string; duration_ms: number | null; last_attempt_ms: number | null; number: number; attempts_made: number }>(
      db.url,
      `SELECT a.type, a.tenant, a.outcome, a.duration_ms, t.last_attempt_ms, a.number, t.attempts_made
         FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE t.status = 'completed' AND t.tenant = 'globex'`,
    );
    expect(rows).toEqual([{ type: 'noop', tenant: 'globex', outcome: 'completed', duration_ms: 500, last_attempt_ms: 500, number: 1, attempts_made: 1 }]);
  });
});
