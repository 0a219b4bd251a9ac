import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AttemptOutcome, TaskStatus, type ReportTypeStats } from '@taskq/contracts';
import { AttemptLog, TaskQueries, TaskAdmissions, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { testDatabase } from '@taskq/testing';
import { ReportHandler } from './report.handler';

jest.setTimeout(30_000);

const MINUTE = 60_000;

type Attempt = { outcome: AttemptOutcome.Completed | AttemptOutcome.Failed | AttemptOutcome.TimedOut; durationMs: number };

describe(ReportHandler.name, () => {
  const db = testDatabase('worker_report');
  let dataSource: DataSource;
  let store: TaskAdmissions;
  let attemptLog: AttemptLog;
  let sut: ReportHandler;

  /** Writes a task and its attempts through the store, as the API and the worker do. */
  async function recordTask(type: string, createdAgoMs: number, attempts: Attempt[], finalStatus?: TaskStatus): Promise<string> {
    const id = randomUUID();
    const createdAt = new Date(Date.now() - createdAgoMs);
    await store.createTask({
      id, type, status: TaskStatus.Queued, payload: {}, priority: null, runAt: null, maxAttempts: 5,
      backoff: { type: 'fixed', delayMs: 1_000, maxDelayMs: 1_000, jitter: 'none' }, timeoutMs: 10_000, idempotencyKey: null, requestHash: null, tenant: 'default', createdAt,
    });
    for (const [index, attempt] of attempts.entries()) {
      const startedAt = new Date(createdAt.getTime() + 1_000 * (index + 1));
      await expect(attemptLog.start({ taskId: id, workerId: 'report-test', startedAt })).resolves.toMatchObject({ kind: 'run', number: index + 1 });
      const last = index === attempts.length - 1;
      const taskStatus =
        attempt.outcome === AttemptOutcome.Completed ? TaskStatus.Completed : last && finalStatus === TaskStatus.Dead ? TaskStatus.Dead : TaskStatus.Retrying;
      await attemptLog.finish({
        taskId: id,
        attempt: index + 1,
        outcome: attempt.outcome,
        taskStatus,
        result: attempt.outcome === AttemptOutcome.Completed ? { ok: true } : null,
        error: attempt.outcome === AttemptOutcome.Completed ? null : 'boom',
        finishedAt: new Date(startedAt.getTime() + attempt.durationMs),
        durationMs: attempt.durationMs,
        nextAttemptAt: null,
      });
    }
    return id;
  }

  const completed = (durationMs: number): Attempt => ({ outcome: AttemptOutcome.Completed, durationMs });
  const failed = (durationMs: number): Attempt => ({ outcome: AttemptOutcome.Failed, durationMs });

  const statsOf = (types: ReportTypeStats[], type: string): ReportTypeStats | undefined => types.find((stats) => stats.type === type);

  beforeAll(async () => {
    await ensureDatabase({ url: db.url });
    dataSource = await openDataSource({ url: db.url });
    await runMigrations(dataSource);
    store = new TaskAdmissions(dataSource);
    attemptLog = new AttemptLog(dataSource);
    sut = new ReportHandler(new TaskQueries(dataSource));

    // noop: five completed tasks; one of them needed a slow failed attempt first (not counted in percentiles).
    for (const duration of [100, 200, 300, 400]) await recordTask('noop', 5 * MINUTE, [completed(duration)]);
    await recordTask('noop', 5 * MINUTE, [failed(90_000), completed(500)]);
    // webhook: one dead after two failures, one retrying, one still queued.
    await recordTask('webhook', 10 * MINUTE, [failed(1_000), failed(2_000)], TaskStatus.Dead);
    await recordTask('webhook', 10 * MINUTE, [failed(700)]);
    await recordTask('webhook', 10 * MINUTE, []);
    // email: two hours old, only inside windows longer than that.
    await recordTask('email', 120 * MINUTE, [completed(40)]);
    // sleep: older than the default one-day window.
    await recordTask('sleep', 25 * 60 * MINUTE, [completed(10)]);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db.drop();
  });

  it('counts tasks per type and status over the default one-day window, with completed-attempt percentiles', async () => {
    const before = Date.now();

    const report = await sut.handle({});

    const to = Date.parse(report.to);
    expect(to).toBeGreaterThanOrEqual(before - 1_000);
    expect(to).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(to - Date.parse(report.from)).toBe(24 * 60 * MINUTE);
    expect(report.types.map((stats) => stats.type)).toEqual(['email', 'noop', 'webhook']);
    expect(statsOf(report.types, 'noop')).toEqual({ type: 'noop', counts: { completed: 5 }, total: 5, p50DurationMs: 300, p95DurationMs: 480 });
    expect(statsOf(report.types, 'webhook')).toEqual({
      type: 'webhook',
      counts: { dead: 1, queued: 1, retrying: 1 },
      total: 3,
      p50DurationMs: null,
      p95DurationMs: null,
    });
    expect(statsOf(report.types, 'email')).toEqual({ type: 'email', counts: { completed: 1 }, total: 1, p50DurationMs: 40, p95DurationMs: 40 });
  });

  it('leaves out tasks created before the window', async () => {
    const lastHour = await sut.handle({ windowMinutes: 60 });
    const twoDays = await sut.handle({ windowMinutes: 2 * 24 * 60 });

    expect(Date.parse(lastHour.to) - Date.parse(lastHour.from)).toBe(60 * MINUTE);
    expect(lastHour.types.map((stats) => stats.type)).toEqual(['noop', 'webhook']);
    expect(twoDays.types.map((stats) => stats.type)).toEqual(['email', 'noop', 'sleep', 'webhook']);
    expect(statsOf(twoDays.types, 'sleep')).toMatchObject({ counts: { completed: 1 }, p50DurationMs: 10 });
  });

  it('returns an empty report for a window with no tasks', async () => {
    const report = await sut.handle({ windowMinutes: 1 });

    expect(report.types).toEqual([]);
  });
});
