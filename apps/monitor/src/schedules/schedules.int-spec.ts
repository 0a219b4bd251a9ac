import type { INestApplicationContext } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';
import type { DataSource } from 'typeorm';
import { MonitorConfig, loadConfig } from '@taskq/config';
import { ScheduleStore, TaskQueries, openDataSource, type NewSchedule } from '@taskq/persistence';
import { ScheduleQueue, TaskProducer, createRedisConnection, scheduledTimeOf } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { createMonitorApp } from '../monitor-app';
import { scheduleRunKey, type RunOutcome } from './schedule-runner';

jest.setTimeout(60_000);

const LOG_LEVEL = process.env['TEST_LOG_LEVEL'] ?? 'fatal';

interface TaskRow {
  id: string;
  status: string;
  type: string;
  payload: unknown;
  max_attempts: number;
  timeout_ms: number;
  schedule_name: string | null;
  idempotency_key: string | null;
  tenant: string;
}

describe('the monitor runs recurring schedules', () => {
  const db = testDatabase('monitor_schedules');
  const prefix = uniquePrefix('monitor-schedules');
  let sut: INestApplicationContext;
  let dataSource: DataSource;
  let schedules: ScheduleStore;
  let queries: TaskQueries;
  let redis: RedisConnection;
  let scheduleQueue: ScheduleQueue;
  let producer: TaskProducer;

  const tasksOf = (name: string): Promise<TaskRow[]> =>
    queryDatabase<TaskRow>(
      db.url,
      'SELECT id, status, type, payload, max_attempts, timeout_ms, schedule_name, idempotency_key, tenant FROM tasks WHERE schedule_name = $1 ORDER BY created_at',
      [name],
    );

  /** Stores a schedule and registers its job scheduler, as the API does. */
  async function createSchedule(schedule: NewSchedule): Promise<void> {
    await schedules.change(async (changes) => {
      await changes.insert(schedule, new Date());
      if (schedule.enabled) await scheduleQueue.register(schedule);
    });
  }

  const completedRuns = async (name: string) =>
    (await scheduleQueue.queue.getJobs(['completed'], 0, -1)).filter((job) => job.data.schedule === name);

  beforeAll(async () => {
    // The monitor creates and migrates the database, like in production.
    sut = await createMonitorApp(
      loadConfig(MonitorConfig, { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL, SCHEDULE_SYNC_INTERVAL_MS: '300', METRICS_PORT: '-1' }),
    );
    await sut.init();
    dataSource = await openDataSource({ url: db.url });
    schedules = new ScheduleStore(dataSource);
    queries = new TaskQueries(dataSource);
    redis = createRedisConnection(TEST_REDIS_URL, 'worker');
    scheduleQueue = new ScheduleQueue(redis, prefix);
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await sut?.close();
    await scheduleQueue?.close();
    await producer?.close();
    redis?.disconnect();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('creates one ordinary task per run, with the schedule name, the type defaults and its job queued', async () => {
    await createSchedule({ name: 'every-second', cron: '*/1 * * * * *', tz: null, type: 'noop', payload: { note: 'tick' }, enabled: true, tenant: 'acme', callbackUrl: null });

    const tasks = await waitFor(async () => {
      const rows = await tasksOf('every-second');
      return rows.length >= 3 && rows;
    }, { timeoutMs: 15_000, description: 'three runs of every-second' });

    for (const task of tasks) {
      expect(task).toMatchObject({ status: 'queued', type: 'noop', payload: { note: 'tick' }, max_attempts: 3, timeout_ms: 10_000, schedule_name: 'every-second', tenant: 'acme' });
      // Nothing serves the noop queue here: each task's job waits there under the task id
      // (as 'prioritized': taskq gives unprioritised tasks BullMQ's lowest priority).
      expect(await producer.queue('noop').getJobState(task.id)).toBe('prioritized');
    }
    // One task per run: every task belongs to a different due time.
    const keys = tasks.map((task) => task.idempotency_key);
    expect(new Set(keys).size).toBe(tasks.length);
    for (const key of keys) expect(key).toMatch(/^schedule every-second \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

    const page = await queries.listTasks({ scheduleName: 'every-second', limit: 100 });
    expect(page.items.length).toBeGreaterThanOrEqual(tasks.length);
    expect(page.items.every((task) => task.scheduleName === 'every-second')).toBe(true);
    expect((await queries.listTasks({ scheduleName: 'nothing-like-it', limit: 100 })).items).toEqual([]);
    expect((await schedules.find('every-second'))?.lastRunAt).toBeInstanceOf(Date);
  });

  it('creates no second task when a run job is delivered again', async () => {
    const [run] = await waitFor(async () => {
      const runs = await completedRuns('every-second');
      return runs.length > 0 && runs;
    }, { description: 'a completed run' });
    if (!run) throw new Error('no run');
    const key = scheduleRunKey('every-second', scheduledTimeOf(run));
    const first = run.returnvalue as RunOutcome;
    expect(first).toEqual({ taskId: expect.any(String), created: true });

    // The same job, with the same id and due time, goes through the monitor's worker again.
    const processedBefore = run.finishedOn ?? 0;
    await run.retry('completed');
    const again = await waitFor(async () => {
      const job = await scheduleQueue.queue.getJob(run.id ?? '');
      return job && (await job.getState()) === 'completed' && (job.finishedOn ?? 0) > processedBefore && job;
    }, { description: `run ${run.id ?? '?'} processed again` });

    expect(again.returnvalue).toEqual({ ...first, created: false });
    const withKey = await queryDatabase<{ id: string }>(db.url, 'SELECT id FROM tasks WHERE idempotency_key = $1', [key]);
    expect(withKey).toEqual([{ id: (first as { taskId: string }).taskId }]);
  });

  it('creates no task for a disabled schedule, and removes its job scheduler', async () => {
    await createSchedule({ name: 'switched-off', cron: '*/1 * * * * *', tz: null, type: 'noop', payload: {}, enabled: true, tenant: 'default', callbackUrl: null });
    const [run] = await waitFor(async () => {
      const runs = await completedRuns('switched-off');
      return runs.length > 0 && runs;
    }, { description: 'a first run of switched-off' });
    if (!run) throw new Error('no run');

    // Disabled in PostgreSQL only, as if the API's Redis change had been lost.
    await schedules.change(async (changes) => {
      const row = await changes.findForUpdate('switched-off');
      if (row) await changes.update('switched-off', { ...row, enabled: false }, new Date());
    });
    const before = await tasksOf('switched-off');
    // The periodic sync removes its job scheduler...
    await waitFor(async () => (await scheduleQueue.queue.getJobScheduler('switched-off')) === undefined, { description: 'the sync removed the job scheduler' });
    // ...and a run that still comes (already due, or delivered again) creates nothing.
    const processedBefore = run.finishedOn ?? 0;
    await run.retry('completed');
    const again = await waitFor(async () => {
      const job = await scheduleQueue.queue.getJob(run.id ?? '');
      return job && (await job.getState()) === 'completed' && (job.finishedOn ?? 0) > processedBefore && job;
    }, { description: 'the run processed again' });
    expect(again.returnvalue).toEqual({ skipped: 'schedule switched-off is disabled' });
    expect(await tasksOf('switched-off')).toEqual(before);

    // A schedule created disabled is never registered and never runs, while others do.
    await createSchedule({ name: 'never-on', cron: '*/1 * * * * *', tz: null, type: 'noop', payload: {}, enabled: false, tenant: 'default', callbackUrl: null });
    const count = (await tasksOf('every-second')).length;
    await waitFor(async () => (await tasksOf('every-second')).length >= count + 2, { description: 'two more runs of every-second' });
    expect(await scheduleQueue.queue.getJobScheduler('never-on')).toBeUndefined();
    expect(await tasksOf('never-on')).toEqual([]);
    expect(await tasksOf('switched-off')).toEqual(before);
  });

  it('re-registers the job schedulers from PostgreSQL after Redis lost them, and the runs resume', async () => {
    const old = await scheduleQueue.queue.getJobScheduler('every-second');
    expect(old?.iterationCount).toBeGreaterThan(5);
    await deleteRedisPrefix(prefix);
    const lostAt = new Date();

    // A fresh scheduler (its iteration count starts again), not the old one.
    const scheduler = await waitFor(async () => {
      const current = await scheduleQueue.queue.getJobScheduler('every-second');
      return current && (current.iterationCount ?? 0) < (old?.iterationCount ?? 0) && current;
    }, { description: 'the sync re-registered every-second' });
    expect(scheduler).toMatchObject({ key: 'every-second', pattern: '*/1 * * * * *' });
    await waitFor(
      async () => ((await queryDatabase<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM tasks WHERE schedule_name = 'every-second' AND created_at > $1`, [lostAt]))[0]?.n ?? 0) >= 2,
      { timeoutMs: 15_000, description: 'runs after the Redis restart' },
    );
    // The disabled schedules stay unregistered.
    expect(await scheduleQueue.queue.getJobScheduler('never-on')).toBeUndefined();
    expect(await scheduleQueue.queue.getJobScheduler('switched-off')).toBeUndefined();
  });
});
