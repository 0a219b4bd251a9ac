import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import { queryDatabase, startTcpProxy, testDatabase, waitFor } from '@taskq/testing';
import { AttemptLog, LOST_RUN_ERROR, type AttemptFinish, type AttemptStartResult } from './attempt-log';
import { ensureDatabase, openDataSource, runMigrations } from './database';
import { TaskQueries } from './task-queries';
import { TaskAdmissions, type NewTask } from './task-admissions';
import { TaskLifecycleStore } from './task-lifecycle-store';

const db = testDatabase('attempt_log');
let dataSource: DataSource;
let store: TaskAdmissions;
let lifecycle: TaskLifecycleStore;
let queries: TaskQueries;
let batches: Array<{ kind: string; size: number }>;
let sut: AttemptLog;

const BACKOFF = { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' } as const;
/** What a run reads of a task made by {@link newTask}: jobs carry only the task's id. */
const TASK = { payload: {}, backoff: BACKOFF, timeoutMs: 1_000 };

async function newTask(overrides: Partial<NewTask> = {}): Promise<string> {
  const task: NewTask = {
    id: randomUUID(), type: 'noop', status: TaskStatus.Queued, payload: {}, priority: null, runAt: null, maxAttempts: 3,
    backoff: BACKOFF, timeoutMs: 1_000, idempotencyKey: null, requestHash: null,
    tenant: 'default', createdAt: new Date(), ...overrides,
  };
  await store.createTask(task);
  return task.id;
}

const finish = (taskId: string, attempt: number, overrides: Partial<AttemptFinish> = {}): AttemptFinish => ({
  taskId, attempt, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed, result: { ok: true }, error: null,
  finishedAt: new Date(), durationMs: 5, nextAttemptAt: null, ...overrides,
});

const attemptsOf = (taskId: string): Promise<Array<{ number: number; worker_id: string; outcome: string; error: string | null }>> =>
  queryDatabase(db.url, 'SELECT number, worker_id, outcome, error FROM task_attempts WHERE task_id = $1 ORDER BY number', [taskId]);

const taskRow = async (taskId: string): Promise<{ status: string; attempts_made: number; attempt_base: number; last_error: string | null } | undefined> =>
  (await queryDatabase<{ status: string; attempts_made: number; attempt_base: number; last_error: string | null }>(
    db.url, 'SELECT status, attempts_made, attempt_base, last_error FROM tasks WHERE id = $1', [taskId],
  ))[0];

beforeAll(async () => {
  await ensureDatabase({ url: db.url });
  dataSource = await openDataSource({ url: db.url });
  await runMigrations(dataSource);
  store = new TaskAdmissions(dataSource);
  lifecycle = new TaskLifecycleStore(dataSource);
  queries = new TaskQueries(dataSource);
  batches = [];
  sut = new AttemptLog(dataSource, { onBatch: (kind, size) => batches.push({ kind, size }) });
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

describe(AttemptLog.name, () => {
  it('records a run from start to success', async () => {
    const id = await newTask();
    const startedAt = new Date();
    await expect(sut.start({ taskId: id, workerId: 'w-1', startedAt })).resolves.toEqual({ kind: 'run', number: 1, attemptBase: 0, maxAttempts: 3, lostRuns: 0, task: TASK });
    expect((await queries.findTask(id))?.status).toBe(TaskStatus.Active);

    await expect(sut.finish(finish(id, 1, { finishedAt: new Date(startedAt.getTime() + 42), durationMs: 42 }))).resolves.toBe(true);

    const stored = await queries.findTask(id);
    expect(stored).toMatchObject({ status: TaskStatus.Completed, result: { ok: true }, attemptsMade: 1, lastError: null });
    expect(stored?.finishedAt).toBeInstanceOf(Date);
    expect(stored?.attempts).toEqual([expect.objectContaining({ number: 1, workerId: 'w-1', outcome: AttemptOutcome.Completed, durationMs: 42, error: null })]);
  });

  it('keeps every attempt of a retried task, with the last error and next attempt time', async () => {
    const id = await newTask();
    const next = new Date(Date.now() + 60_000);
    await sut.start({ taskId: id, workerId: 'w-1', startedAt: new Date() });
    await sut.finish(finish(id, 1, { outcome: AttemptOutcome.Failed, taskStatus: TaskStatus.Retrying, result: null, error: 'boom', nextAttemptAt: next }));
    expect(await queries.findTask(id)).toMatchObject({ status: TaskStatus.Retrying, lastError: 'boom', nextAttemptAt: next, finishedAt: null });

    await expect(sut.start({ taskId: id, workerId: 'w-2', startedAt: new Date() })).resolves.toMatchObject({ kind: 'run', number: 2, lostRuns: 0 });
    await sut.finish(finish(id, 2, { outcome: AttemptOutcome.TimedOut, taskStatus: TaskStatus.Dead, result: null, error: 'timed out after 10 ms' }));

    expect(await queries.findTask(id)).toMatchObject({ status: TaskStatus.Dead, lastError: 'timed out after 10 ms', attemptsMade: 2, nextAttemptAt: null });
    expect((await attemptsOf(id)).map((a) => [a.number, a.worker_id, a.outcome])).toEqual([
      [1, 'w-1', 'failed'],
      [2, 'w-2', 'timed_out'],
    ]);
  });

  it('refuses to start a finished task, or one it does not know', async () => {
    const id = await newTask();
    await sut.start({ taskId: id, workerId: 'w', startedAt: new Date() });
    await sut.finish(finish(id, 1));

    await expect(sut.start({ taskId: id, workerId: 'w', startedAt: new Date() })).resolves.toEqual({ kind: 'skip', lostRuns: 0 });
    await expect(sut.start({ taskId: randomUUID(), workerId: 'w', startedAt: new Date() })).resolves.toEqual({ kind: 'skip', lostRuns: 0 });
    expect(await attemptsOf(id)).toHaveLength(1);
  });

  it('gives a redelivered job its own attempt, records the cut-short run as lost, and charges it to the budget', async () => {
    const id = await newTask({ maxAttempts: 2 });
    await sut.start({ taskId: id, workerId: 'killed-1', startedAt: new Date() });

    await expect(sut.start({ taskId: id, workerId: 'killed-2', startedAt: new Date() })).resolves.toEqual({ kind: 'run', number: 2, attemptBase: 0, maxAttempts: 2, lostRuns: 1, task: TASK });
    // Two runs lost of a budget of two: the task is dead rather than run a third time.
    await expect(sut.start({ taskId: id, workerId: 'w-3', startedAt: new Date() })).resolves.toEqual({ kind: 'spent', lostRuns: 1 });

    expect(await attemptsOf(id)).toEqual([
      { number: 1, worker_id: 'killed-1', outcome: 'lost', error: LOST_RUN_ERROR },
      { number: 2, worker_id: 'killed-2', outcome: 'lost', error: LOST_RUN_ERROR },
    ]);
    expect(await taskRow(id)).toEqual({ status: 'dead', attempts_made: 2, attempt_base: 0, last_error: LOST_RUN_ERROR });
  });

  it('resumes its own run when a start is retried after its commit went through', async () => {
    const id = await newTask();
    const start = { taskId: id, workerId: 'w-1', startedAt: new Date() };
    await sut.start(start);

    await expect(sut.start({ ...start, retried: true })).resolves.toEqual({ kind: 'run', number: 1, attemptBase: 0, maxAttempts: 3, lostRuns: 0, task: TASK });
    expect(await attemptsOf(id)).toEqual([{ number: 1, worker_id: 'w-1', outcome: 'running', error: null }]);
  });

  it('discards the outcome of a run that a later run superseded, and reports a retried commit as recorded', async () => {
    const id = await newTask();
    await sut.start({ taskId: id, workerId: 'slow', startedAt: new Date() });
    await sut.start({ taskId: id, workerId: 'next', startedAt: new Date() });

    await expect(sut.finish(finish(id, 1))).resolves.toBe(false);
    expect(await taskRow(id)).toMatchObject({ status: 'active', attempts_made: 2 });

    const second = finish(id, 2, { outcome: AttemptOutcome.Failed, taskStatus: TaskStatus.Retrying, result: null, error: 'boom', nextAttemptAt: new Date() });
    await expect(sut.finish(second)).resolves.toBe(true);
    await expect(sut.finish(second)).resolves.toBe(true);
    expect((await attemptsOf(id)).map((a) => a.outcome)).toEqual(['lost', 'failed']);
    expect(await taskRow(id)).toMatchObject({ status: 'retrying', attempts_made: 2 });
  });

  it('hands an interrupted run back for free, once, and tells a cancelled task or a superseded run apart', async () => {
    const id = await newTask({ maxAttempts: 1 });
    await sut.start({ taskId: id, workerId: 'w', startedAt: new Date() });
    const release = { taskId: id, attempt: 1, error: 'interrupted by worker shutdown', finishedAt: new Date(), durationMs: 3 };

    await expect(sut.release(release)).resolves.toBe('released');
    await expect(sut.release(release)).resolves.toBe('released');
    expect(await taskRow(id)).toMatchObject({ status: 'queued', attempts_made: 1, attempt_base: 1 });
    // The free run left the budget of one intact.
    await expect(sut.start({ taskId: id, workerId: 'w', startedAt: new Date() })).resolves.toMatchObject({ kind: 'run', number: 2, attemptBase: 1, maxAttempts: 1 });

    const cancelled = await newTask();
    await sut.start({ taskId: cancelled, workerId: 'w', startedAt: new Date() });
    await lifecycle.cancelTask(cancelled);
    await expect(sut.release({ ...release, taskId: cancelled })).resolves.toBe('finished');

    const superseded = await newTask();
    await sut.start({ taskId: superseded, workerId: 'w', startedAt: new Date() });
    await sut.start({ taskId: superseded, workerId: 'w', startedAt: new Date(Date.now() + 1) });
    await expect(sut.release({ ...release, taskId: superseded })).resolves.toBe('superseded');
    expect(await taskRow(superseded)).toMatchObject({ status: 'active', attempts_made: 2, attempt_base: 0 });
  });

  it('records as lost the run a worker left behind on a task cancelled since, when its job comes round again', async () => {
    const id = await newTask();
    await sut.start({ taskId: id, workerId: 'killed', startedAt: new Date() });
    await lifecycle.cancelTask(id);

    await expect(sut.start({ taskId: id, workerId: 'w', startedAt: new Date() })).resolves.toEqual({ kind: 'skip', lostRuns: 1 });
    expect((await attemptsOf(id)).map((a) => a.outcome)).toEqual(['lost']);
    expect((await taskRow(id))?.status).toBe('cancelled');
  });

  it('group-commits concurrent starts and finishes, the same task twice in a batch included', async () => {
    const ids = await Promise.all(Array.from({ length: 200 }, () => newTask()));
    batches.length = 0;
    // One statement at a time, so both starts of `twice` share a batch: the first flush takes
    // ids[0] alone (the first write after a quiet spell goes at once), the second everything
    // else, in rounds without a task twice. (Two starts
    // of one task in statements running at once cannot see each other's rows: the earlier run
    // stays `running` until the reconciler records it lost.)
    const serial = new AttemptLog(dataSource, { maxConcurrentFlushes: 1, onBatch: (kind, size) => batches.push({ kind, size }) });
    const twice = ids[1] ?? '';

    const started = await Promise.all([
      ...ids.map((taskId) => serial.start({ taskId, workerId: 'w', startedAt: new Date() })),
      serial.start({ taskId: twice, workerId: 'w-again', startedAt: new Date() }),
    ]);
    await Promise.all(ids.map((taskId, index) => serial.finish(finish(taskId, (started[index] as { number: number }).number))));

    const starts = batches.filter((batch) => batch.kind === 'start');
    expect(starts.reduce((sum, batch) => sum + batch.size, 0)).toBe(201);
    expect(starts.length).toBeLessThan(201 / 10);
    // The second start of the same task came after the first, in a later round: the first run was lost.
    expect(started.at(-1)).toMatchObject({ kind: 'run', number: 2, lostRuns: 1 });
    expect((await attemptsOf(twice)).map((a) => a.outcome)).toEqual(['lost', 'running']);
  });

  describe('a batch whose connection fails in flight', () => {
    const tasks = 30;

    /** An AttemptLog whose statements go through a proxy that can lose their answers. */
    async function throughProxy() {
      const proxy = await startTcpProxy(Number(new URL(db.url).port || 5432));
      const url = new URL(db.url);
      url.port = String(proxy.port);
      const proxied = await openDataSource({ url: url.toString(), poolSize: 2 });
      return { proxy, log: new AttemptLog(proxied), close: async () => {
        await proxied.destroy().catch(() => undefined);
        await proxy.close();
      } };
    }

    const runningAttempts = async (ids: string[]): Promise<number> =>
      Number((await queryDatabase<{ n: string }>(db.url, "SELECT count(*) AS n FROM task_attempts WHERE task_id = ANY($1) AND outcome = 'running'", [ids]))[0]?.n);

    it('fails the start of every caller in the broken batch, and a retry finds what committed: no attempt lost, none twice', async () => {
      const ids = await Promise.all(Array.from({ length: tasks }, () => newTask()));
      const startedAt = new Date();
      const { proxy, log, close } = await throughProxy();
      let settled: Array<PromiseSettledResult<AttemptStartResult>>;
      try {
        // The first flush (one start: the first write after a quiet spell goes at once)
        // commits, but its answer is lost; the others gather behind it. Then the connection
        // breaks: the first fails, the others go out in the next batch, on a new connection.
        proxy.dropAnswers();
        const tries = ids.map((taskId) => log.start({ taskId, workerId: 'w-cut', startedAt }));
        await waitFor(async () => (await runningAttempts(ids)) === 1, { timeoutMs: 10_000, description: 'the first start to commit' });
        proxy.cut();
        settled = await Promise.allSettled(tries);
      } finally {
        await close();
      }
      expect(settled[0]?.status).toBe('rejected');

      // The runner retries a failed start with `retried`, as after any failure that may have committed.
      const outcomes = await Promise.all(
        ids.map((taskId, index) => {
          const first = settled[index];
          return first?.status === 'fulfilled' ? first.value : sut.start({ taskId, workerId: 'w-cut', startedAt, retried: true });
        }),
      );
      expect(outcomes).toEqual(ids.map(() => expect.objectContaining({ kind: 'run', number: 1, lostRuns: 0 })));
      for (const id of ids) expect(await attemptsOf(id)).toEqual([{ number: 1, worker_id: 'w-cut', outcome: 'running', error: null }]);
    });

    it('fails the outcome of every caller in the broken batch, and a retry records each exactly once', async () => {
      const ids = await Promise.all(Array.from({ length: tasks }, () => newTask()));
      await Promise.all(ids.map((taskId) => sut.start({ taskId, workerId: 'w', startedAt: new Date() })));
      const outcomes = ids.map((taskId) => finish(taskId, 1));
      const { proxy, log, close } = await throughProxy();
      let settled: Array<PromiseSettledResult<boolean>>;
      try {
        proxy.dropAnswers();
        const tries = outcomes.map((outcome) => log.finish(outcome));
        await waitFor(async () => (await runningAttempts(ids)) === tasks - 1, { timeoutMs: 10_000, description: 'the first outcome to commit' });
        proxy.cut();
        settled = await Promise.allSettled(tries);
      } finally {
        await close();
      }
      expect(settled[0]?.status).toBe('rejected');

      const recorded = await Promise.all(
        outcomes.map((outcome, index) => {
          const first = settled[index];
          return first?.status === 'fulfilled' ? first.value : sut.finish(outcome);
        }),
      );
      expect(recorded).toEqual(ids.map(() => true));
      for (const id of ids) {
        expect((await attemptsOf(id)).map((a) => a.outcome)).toEqual(['completed']);
        expect(await taskRow(id)).toMatchObject({ status: 'completed', attempts_made: 1 });
      }
    });
  });
});
