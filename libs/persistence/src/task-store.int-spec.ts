import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { AttemptLog } from './attempt-log';
import { ensureDatabase, isSchemaCurrent, openDataSource, runMigrations } from './database';
import { MIGRATIONS } from './migrations';
import { InvalidCursorError, TaskQueries } from './task-queries';
import { TaskAdmissions, type NewTask } from './task-admissions';
import { TaskLifecycleStore } from './task-lifecycle-store';
import { TaskMaintenance } from './task-maintenance';

const db = testDatabase('task_store');
let dataSource: DataSource;
let batches: Array<{ kind: string; size: number }>;
let admissions: TaskAdmissions;
let lifecycle: TaskLifecycleStore;
let maintenance: TaskMaintenance;
let queries: TaskQueries;
let attempts: AttemptLog;

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
  admissions = new TaskAdmissions(dataSource, { onBatch: (kind, size) => batches.push({ kind, size }) });
  lifecycle = new TaskLifecycleStore(dataSource);
  maintenance = new TaskMaintenance(dataSource);
  queries = new TaskQueries(dataSource);
  attempts = new AttemptLog(dataSource);
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

describe('task stores', () => {
  it('group-commits concurrent submissions into few statements', async () => {
    batches.length = 0;
    const tasks = Array.from({ length: 300 }, () => newTask({ type: 'sleep', payload: { ms: 1 } }));
    await Promise.all(tasks.map((task) => admissions.createTask(task)));
    const rows = await queryDatabase<{ count: number }>(db.url, `SELECT count(*)::int AS count FROM tasks WHERE type = 'sleep'`);
    expect(rows[0]?.count).toBe(300);
    const inserts = batches.filter((batch) => batch.kind === 'insert');
    expect(inserts.reduce((sum, batch) => sum + batch.size, 0)).toBe(300);
    expect(inserts.length).toBeLessThan(300 / 10);
  });

  it('abandons runs nobody holds: each charged as lost, the task queued again, or dead once its budget is spent; a task that moved on is left alone', async () => {
    const [again, spent, moved] = [newTask({ maxAttempts: 2 }), newTask({ maxAttempts: 1 }), newTask()];
    await admissions.insertTasks([again, spent, moved]);
    for (const task of [again, spent, moved]) await attempts.start({ taskId: task.id, workerId: 'gone', startedAt: new Date() });
    const read = await queries.taskStates([again.id, spent.id, moved.id]);
    const updatedAt = (id: string): Date => read.find((row) => row.id === id)?.updatedAt ?? new Date(0);
    await attempts.finish({ taskId: moved.id, attempt: 1, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed, result: null, error: null, finishedAt: new Date(), durationMs: 1, nextAttemptAt: null });

    const at = new Date();
    const abandoned = await maintenance.abandonRuns(
      [again, spent, moved].map((task) => ({ taskId: task.id, attemptsMade: 1, updatedAt: updatedAt(task.id) })),
      { error: 'its job failed in Redis', at },
    );

    expect(abandoned).toHaveLength(2);
    expect(abandoned).toContainEqual({ dead: true, id: spent.id, type: 'noop' });
    expect(abandoned).toContainEqual({ dead: false, task: expect.objectContaining({ id: again.id, status: 'queued', attemptsMade: 1, attemptBase: 0, maxAttempts: 2 }) });
    const outcomes = await queryDatabase<{ task_id: string; outcome: string }>(db.url, 'SELECT task_id, outcome FROM task_attempts WHERE task_id = ANY($1::uuid[])', [[again.id, spent.id, moved.id]]);
    expect(Object.fromEntries(outcomes.map((row) => [row.task_id, row.outcome]))).toEqual({ [again.id]: 'lost', [spent.id]: 'lost', [moved.id]: 'completed' });
    expect(await queries.findTask(spent.id)).toMatchObject({ status: TaskStatus.Dead, lastError: 'its job failed in Redis', finishedAt: at });
  });

  it('records as lost the attempt rows left running after their run ended, past their deadline only', async () => {
    const cancelled = newTask({ timeoutMs: 100 });
    const young = newTask({ timeoutMs: 60_000 });
    const current = newTask({ timeoutMs: 100 });
    await admissions.insertTasks([cancelled, young, current]);
    for (const task of [cancelled, young, current]) await attempts.start({ taskId: task.id, workerId: 'gone', startedAt: new Date(Date.now() - 1_000) });
    await lifecycle.cancelTask(cancelled.id);
    await lifecycle.cancelTask(young.id);

    const stray = await maintenance.recordStrayRuns({ settledBefore: new Date(), limit: 100 }, { error: 'stray', at: new Date() });

    // The young one may still be recording its cancellation; the current one is an active task's own run.
    expect(stray).toEqual([{ taskId: cancelled.id, number: 1, type: 'noop' }]);
    await expect(maintenance.recordStrayRuns({ settledBefore: new Date(), limit: 100 }, { error: 'stray', at: new Date() })).resolves.toEqual([]);
  });

  it('withdraws only tasks that never started', async () => {
    const unstarted = newTask();
    const started = newTask();
    await Promise.all([admissions.createTask(unstarted), admissions.createTask(started)]);
    await attempts.start({ taskId: started.id, workerId: 'w', startedAt: new Date() });
    await admissions.deleteUnstartedTasks([unstarted.id, started.id]);
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
    await admissions.insertTasks(listed);
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
