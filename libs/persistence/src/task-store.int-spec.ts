import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { ensureDatabase, isSchemaCurrent, openDataSource, runMigrations } from './database';
import { MIGRATIONS } from './migrations';
import { InvalidCursorError, TaskQueries } from './task-queries';
import { TaskStore, type NewTask } from './task-store';

const db = testDatabase('task_store');
let dataSource: DataSource;
let batches: Array<{ kind: string; size: number }>;
let sut: TaskStore;
let queries: TaskQueries;

const newTask = (overrides: Partial<NewTask> = {}): NewTask => ({
  id: randomUUID(),
  type: 'noop',
  status: TaskStatus.Queued,
  payload: { note: 'x' },
  priority: null,
  runAt: null,
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 10, maxDelayMs: 100, jitter: 'none' },
  timeoutMs: 1_000,
  idempotencyKey: null,
  requestHash: null,
  tenant: 'default',
  createdAt: new Date(),
  ...overrides,
});

beforeAll(async () => {
  await ensureDatabase({ url: db.url });
  dataSource = await openDataSource({ url: db.url });
  await runMigrations(dataSource);
  batches = [];
  sut = new TaskStore(dataSource, { onBatch: (kind, size) => batches.push({ kind, size }) });
  queries = new TaskQueries(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

describe('database set-up', () => {
  it('created the database and applied every migration; a second run applies nothing', async () => {
    expect(await isSchemaCurrent(dataSource)).toBe(true);
    await expect(runMigrations(dataSource)).resolves.toEqual([]);
  });

  it('lets concurrent replicas migrate without conflict', async () => {
    const other = testDatabase('concurrent_migrations');
    await ensureDatabase({ url: other.url });
    const sources = await Promise.all([1, 2, 3].map(() => openDataSource({ url: other.url })));
    try {
      const applied = await Promise.all(sources.map((source) => runMigrations(source)));
      // Each migration applied exactly once, by whichever replica got there first.
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((migration) => new migration().name).sort());
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
      await other.drop();
    }
  });
});

describe(TaskStore.name, () => {
  it('group-commits concurrent submissions into few statements', async () => {
    batches.length = 0;
    const tasks = Array.from({ length: 300 }, () => newTask({ type: 'sleep', payload: { ms: 1 } }));
    await Promise.all(tasks.map((task) => sut.createTask(task)));
    const rows = await queryDatabase<{ count: number }>(db.url, `SELECT count(*)::int AS count FROM tasks WHERE type = 'sleep'`);
    expect(rows[0]?.count).toBe(300);
    const inserts = batches.filter((batch) => batch.kind === 'insert');
    expect(inserts.reduce((sum, batch) => sum + batch.size, 0)).toBe(300);
    expect(inserts.length).toBeLessThan(300 / 10);
  });

  it('records an attempt from start to success in PostgreSQL', async () => {
    const task = newTask();
    await sut.createTask(task);
    const startedAt = new Date();
    await expect(sut.startAttempt({ taskId: task.id, attempt: 1, workerId: 'w-1', startedAt })).resolves.toBe(true);
    expect((await queries.findTask(task.id))?.status).toBe(TaskStatus.Active);

    await sut.finishAttempt({
      taskId: task.id, attempt: 1, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed,
      result: { ok: true }, error: null, finishedAt: new Date(startedAt.getTime() + 42), durationMs: 42, nextAttemptAt: null,
    });
    const stored = await queries.findTask(task.id);
    expect(stored).toMatchObject({ status: TaskStatus.Completed, result: { ok: true }, attemptsMade: 1, lastError: null });
    expect(stored?.finishedAt).toBeInstanceOf(Date);
    expect(stored?.attempts).toEqual([expect.objectContaining({ number: 1, workerId: 'w-1', outcome: AttemptOutcome.Completed, durationMs: 42, error: null })]);
  });

  it('keeps every attempt of a retried task, with the last error and next attempt time', async () => {
    const task = newTask();
    await sut.createTask(task);
    const next = new Date(Date.now() + 60_000);
    await sut.startAttempt({ taskId: task.id, attempt: 1, workerId: 'w-1', startedAt: new Date() });
    await sut.finishAttempt({
      taskId: task.id, attempt: 1, outcome: AttemptOutcome.Failed, taskStatus: TaskStatus.Retrying,
      result: null, error: 'boom', finishedAt: new Date(), durationMs: 5, nextAttemptAt: next,
    });
    expect(await queries.findTask(task.id)).toMatchObject({ status: TaskStatus.Retrying, lastError: 'boom', nextAttemptAt: next, finishedAt: null });

    await sut.startAttempt({ taskId: task.id, attempt: 2, workerId: 'w-2', startedAt: new Date() });
    await sut.finishAttempt({
      taskId: task.id, attempt: 2, outcome: AttemptOutcome.TimedOut, taskStatus: TaskStatus.Dead,
      result: null, error: 'timed out after 10 ms', finishedAt: new Date(), durationMs: 10, nextAttemptAt: null,
    });
    const stored = await queries.findTask(task.id);
    expect(stored).toMatchObject({ status: TaskStatus.Dead, lastError: 'timed out after 10 ms', attemptsMade: 2, nextAttemptAt: null });
    expect(stored?.attempts?.map((a) => [a.number, a.workerId, a.outcome])).toEqual([
      [1, 'w-1', AttemptOutcome.Failed],
      [2, 'w-2', AttemptOutcome.TimedOut],
    ]);
  });

  it('refuses to start a finished task, or one it does not know', async () => {
    const task = newTask();
    await sut.createTask(task);
    await sut.startAttempt({ taskId: task.id, attempt: 1, workerId: 'w', startedAt: new Date() });
    await sut.finishAttempt({
      taskId: task.id, attempt: 1, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed,
      result: {}, error: null, finishedAt: new Date(), durationMs: 1, nextAttemptAt: null,
    });
    await expect(sut.startAttempt({ taskId: task.id, attempt: 2, workerId: 'w', startedAt: new Date() })).resolves.toBe(false);
    await expect(sut.startAttempt({ taskId: randomUUID(), attempt: 1, workerId: 'w', startedAt: new Date() })).resolves.toBe(false);
    expect((await queries.findTask(task.id))?.attempts).toHaveLength(1);
  });

  it('withdraws only tasks that never started', async () => {
    const unstarted = newTask();
    const started = newTask();
    await Promise.all([sut.createTask(unstarted), sut.createTask(started)]);
    await sut.startAttempt({ taskId: started.id, attempt: 1, workerId: 'w', startedAt: new Date() });
    await sut.deleteUnstartedTasks([unstarted.id, started.id]);
    expect(await queries.findTask(unstarted.id)).toBeNull();
    expect(await queries.findTask(started.id)).not.toBeNull();
  });
});

describe(TaskQueries.name, () => {
  const base = Date.UTC(2020, 0, 1);
  const listed: NewTask[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 25; i++) {
      listed.push(newTask({ type: i % 2 ? 'report' : 'webhook', status: i % 5 ? TaskStatus.Queued : TaskStatus.Delayed, createdAt: new Date(base + Math.floor(i / 2) * 1000) }));
    }
    await sut.insertTasks(listed);
  });

  it('pages newest first with a cursor, each task exactly once, even with equal timestamps', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.listTasks({ type: 'report', limit: 4, cursor });
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const expected = listed
      .filter((task) => task.type === 'report')
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((task) => task.id);
    expect(seen).toEqual(expected);
  });

  it('filters by status and type together', async () => {
    const page = await queries.listTasks({ type: 'webhook', status: TaskStatus.Delayed, limit: 100 });
    const expected = listed.filter((task) => task.type === 'webhook' && task.status === TaskStatus.Delayed);
    expect(page.items.map((item) => item.id).sort()).toEqual(expected.map((task) => task.id).sort());
    expect(page.nextCursor).toBeNull();
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(queries.listTasks({ limit: 5, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('answers null for an id that is not a uuid', async () => {
    await expect(queries.findTask('../etc/passwd')).resolves.toBeNull();
  });
});
