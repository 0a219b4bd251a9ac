import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus, type TaskEvent } from '@taskq/contracts';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { AttemptLog } from './attempt-log';
import { ensureDatabase, openDataSource, runMigrations } from './database';
import { ProgressLog } from './progress-log';
import { TaskAdmissions } from './task-admissions';

/** Progress is stored only for the run that is the task's current one, and announced after its commit, like the attempt records. */
const db = testDatabase('progress_log');
let dataSource: DataSource;
let admissions: TaskAdmissions;
let attempts: AttemptLog;
let sut: ProgressLog;
const published: TaskEvent[] = [];
const sink = { publish: (events: readonly TaskEvent[]) => void published.push(...events) };

async function runningTask(): Promise<string> {
  const id = randomUUID();
  await admissions.createTask({
    id, type: 'sleep', status: TaskStatus.Queued, payload: { ms: 1 }, priority: null, runAt: null, maxAttempts: 3,
    backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' }, timeoutMs: 1_000, idempotencyKey: null, requestHash: null,
    tenant: 'acme', createdAt: new Date(),
  });
  expect(await attempts.start({ taskId: id, workerId: 'w1', startedAt: new Date() })).toMatchObject({ kind: 'run', number: 1 });
  return id;
}

const progressOf = async (id: string): Promise<{ progress: unknown; progress_at: Date | null } | undefined> =>
  (await queryDatabase<{ progress: unknown; progress_at: Date | null }>(db.url, 'SELECT progress, progress_at FROM tasks WHERE id = $1', [id]))[0];

beforeAll(async () => {
  await ensureDatabase({ url: db.url });
  dataSource = await openDataSource({ url: db.url });
  await runMigrations(dataSource);
  admissions = new TaskAdmissions(dataSource);
  attempts = new AttemptLog(dataSource, { events: sink });
  sut = new ProgressLog(dataSource, sink);
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

beforeEach(() => void published.splice(0));

it('stores the latest progress of the running attempt and announces it after the commit', async () => {
  const id = await runningTask();
  const at = new Date();
  await Promise.all([sut.report({ taskId: id, attempt: 1, progress: 10, at }), sut.report({ taskId: id, attempt: 1, progress: { step: 'b' }, at })]);
  expect(await progressOf(id)).toEqual({ progress: { step: 'b' }, progress_at: at });
  expect(published).toContainEqual({ kind: 'status', taskId: id, type: 'sleep', tenant: 'acme', status: 'active', attempt: 1, error: null, at: expect.any(String) });
  const progress = published.filter((event) => event.kind === 'progress');
  expect(progress.at(-1)).toEqual({ kind: 'progress', taskId: id, type: 'sleep', tenant: 'acme', progress: { step: 'b' }, at: at.toISOString() });
});

it("changes nothing for a run that is not the task's current one, or after the outcome", async () => {
  const id = await runningTask();
  expect(await sut.report({ taskId: id, attempt: 2, progress: 50, at: new Date() })).toBe(false);
  expect(await attempts.finish({ taskId: id, attempt: 1, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed, result: null, error: null, finishedAt: new Date(), durationMs: 1, nextAttemptAt: null })).toBe(true);
  expect(await sut.report({ taskId: id, attempt: 1, progress: 99, at: new Date() })).toBe(false);
  expect(await progressOf(id)).toEqual({ progress: null, progress_at: null });
  expect(published.filter((event) => event.kind === 'progress')).toEqual([]);
  expect(published.filter((event) => event.kind === 'status').map((event) => (event.kind === 'status' ? event.status : ''))).toEqual(['active', 'completed']);
});
