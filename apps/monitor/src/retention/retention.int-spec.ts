import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { openPreparedDataSource } from '@taskq/persistence';
import { DEAD_LETTER_QUEUE, DeadLetterMirror } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, startPrivateRedis, testDatabase, uniquePrefix, waitFor, type PrivateRedis } from '@taskq/testing';
import { startMonitor, type MonitorTestApp } from '../testing/monitor-test-app';
import { MAINTENANCE_QUEUE, RETENTION_SCHEDULER_ID } from './maintenance-queue';
import { RetentionProcessor, type RetentionRun } from './retention-processor';
import { RetentionScheduler } from './retention-scheduler';

const DAY_MS = 86_400_000;

interface Row {
  status: 'queued' | 'active' | 'retrying' | 'completed' | 'dead' | 'cancelled';
  /** Days since it finished (terminal statuses) or since it was created (the others). */
  daysAgo: number;
  attempts: number;
}

/** Inserts tasks as they would be after their life, with finished attempts; returns their ids. */
async function insertTasks(url: string, rows: Row[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  const now = Date.now();
  await queryDatabase(
    url,
    `INSERT INTO tasks (id, type, status, payload, max_attempts, attempts_made, backoff, timeout_ms, created_at, updated_at, finished_at)
     SELECT i.id, 'noop', i.status, '{}', 5, i.attempts, '{"type":"fixed","delayMs":1,"maxDelayMs":1,"jitter":"none"}', 1000, i.at - interval '1 hour', i.at,
            CASE WHEN i.status IN ('completed', 'dead', 'cancelled') THEN i.at END
       FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[]) AS i(id, status, attempts, at)`,
    [ids, rows.map((r) => r.status), rows.map((r) => r.attempts), rows.map((r) => new Date(now - r.daysAgo * DAY_MS))],
  );
  await queryDatabase(
    url,
    `INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome)
     SELECT t.id, n, 'w', t.updated_at - interval '1 minute', t.updated_at, 60000, CASE WHEN t.status = 'completed' THEN 'completed' ELSE 'failed' END
       FROM tasks t CROSS JOIN LATERAL generate_series(1, t.attempts_made) AS n WHERE t.id = ANY($1::uuid[])`,
    [ids],
  );
  return ids;
}

async function remaining(url: string): Promise<{ tasks: string[]; attempts: number }> {
  const tasks = await queryDatabase<{ id: string }>(url, 'SELECT id FROM tasks');
  const [attempts] = await queryDatabase<{ n: number }>(url, 'SELECT count(*)::int AS n FROM task_attempts');
  return { tasks: tasks.map((t) => t.id).sort(), attempts: attempts?.n ?? -1 };
}

async function withQueue<T>(prefix: string, name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

describe('retention clean-up through the job scheduler', () => {
  const db = testDatabase('monitor_retention');
  const prefix = uniquePrefix('monitor-retention');
  let monitor: MonitorTestApp | undefined;
  let expired: string[];
  let kept: string[];

  beforeAll(async () => {
    // The schema first, then the data: the first scheduled run must find every row in place.
    await (await openPreparedDataSource({ url: db.url })).destroy();
    expired = await insertTasks(db.url, [
      { status: 'completed', daysAgo: 40, attempts: 2 },
      { status: 'completed', daysAgo: 31, attempts: 1 },
      { status: 'cancelled', daysAgo: 100, attempts: 0 },
      { status: 'completed', daysAgo: 35, attempts: 3 },
      { status: 'cancelled', daysAgo: 45, attempts: 1 },
    ]);
    kept = await insertTasks(db.url, [
      { status: 'completed', daysAgo: 29, attempts: 1 },
      { status: 'dead', daysAgo: 60, attempts: 2 },
      { status: 'dead', daysAgo: 5, attempts: 3 },
      { status: 'active', daysAgo: 60, attempts: 1 },
      { status: 'retrying', daysAgo: 50, attempts: 2 },
      { status: 'queued', daysAgo: 90, attempts: 0 },
    ]);
    // Every second, so the test sees a run soon; batches of 2 so the 5 expired tasks take 3 statements.
    monitor = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RETENTION_CRON: '* * * * * *', RETENTION_DAYS: '30', RETENTION_BATCH_SIZE: '2' });
  });

  afterAll(async () => {
    await monitor?.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('keeps a job scheduler in Redis with the configured pattern, in UTC', async () => {
    const scheduler = await withQueue(prefix, MAINTENANCE_QUEUE, (queue) => queue.getJobScheduler(RETENTION_SCHEDULER_ID));
    expect(scheduler).toMatchObject({ key: RETENTION_SCHEDULER_ID, pattern: '* * * * * *', tz: 'UTC' });
  });

  it('deletes exactly the completed and cancelled tasks finished more than RETENTION_DAYS ago, with their attempts, in batches', async () => {
    const firstRun = await waitFor(
      () =>
        withQueue(prefix, MAINTENANCE_QUEUE, async (queue) => {
          const [job] = await queue.getJobs(['completed'], -1, -1);
          return job ? (job.returnvalue as RetentionRun) : undefined;
        }),
      { timeoutMs: 15_000, description: 'a completed retention job' },
    );
    expect(firstRun).toMatchObject({ tasks: 5, attempts: 7, batches: 3, interrupted: false });
    expect(await remaining(db.url)).toEqual({ tasks: [...kept].sort(), attempts: 1 + 2 + 3 + 1 + 2 });
    expect(expired.every((id) => !kept.includes(id))).toBe(true);
    expect(monitor?.logs.matching(/^info \[Retention\] retention removed 5 tasks and 7 attempts finished before \d{4}-\d\d-\d\dT.*\(completed, cancelled; 3 batch\(es\) of at most 2\)$/)).toHaveLength(1);
  });

  it('upserts the scheduler again at the next start with the new pattern, and keeps one scheduler', async () => {
    await monitor?.close();
    monitor = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RETENTION_CRON: '0 4 * * *', SCHEDULE_SYNC_INTERVAL_MS: '200' });
    const schedulers = await withQueue(prefix, MAINTENANCE_QUEUE, (queue) => queue.getJobSchedulers());
    expect(schedulers).toEqual([expect.objectContaining({ key: RETENTION_SCHEDULER_ID, pattern: '0 4 * * *' })]);
  });

  it('registers the scheduler again, without a restart, when Redis lost it', async () => {
    expect(await withQueue(prefix, MAINTENANCE_QUEUE, (queue) => queue.removeJobScheduler(RETENTION_SCHEDULER_ID))).toBe(true);
    const restored = await waitFor(() => withQueue(prefix, MAINTENANCE_QUEUE, (queue) => queue.getJobScheduler(RETENTION_SCHEDULER_ID)), {
      timeoutMs: 10_000,
      description: 'the retention scheduler back in Redis',
    });
    expect(restored).toMatchObject({ key: RETENTION_SCHEDULER_ID, pattern: '0 4 * * *', tz: 'UTC' });
    expect(monitor?.logs.matching(/the retention scheduler was missing in Redis: registered it again/)).toHaveLength(1);
  });
});

describe(RetentionProcessor.name, () => {
  const db = testDatabase('monitor_retention_dead');
  const prefix = uniquePrefix('monitor-retention-dead');
  let monitor: MonitorTestApp | undefined;
  let mirror: DeadLetterMirror;
  let mirrorConnection: Redis;

  beforeAll(async () => {
    // A pattern that does not fire during the test: the processor is called directly.
    monitor = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RETENTION_CRON: '0 0 1 1 *', RETENTION_INCLUDE_DEAD: 'true', RETENTION_DAYS: '7' });
    mirrorConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    mirror = new DeadLetterMirror(mirrorConnection, prefix);
  });

  afterAll(async () => {
    await monitor?.close();
    await mirror.close();
    mirrorConnection.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('with RETENTION_INCLUDE_DEAD, deletes old dead tasks too and takes them out of the dead-letter mirror', async () => {
    const [oldDead, recentDead] = await insertTasks(db.url, [
      { status: 'dead', daysAgo: 8, attempts: 2 },
      { status: 'dead', daysAgo: 6, attempts: 1 },
      { status: 'completed', daysAgo: 10, attempts: 1 },
    ]);
    await mirror.add([
      { taskId: oldDead as string, type: 'noop', error: 'boom' },
      { taskId: recentDead as string, type: 'noop', error: 'boom' },
    ]);

    const run = await monitor?.app.get(RetentionProcessor).run();

    expect(run).toMatchObject({ tasks: 2, attempts: 3, batches: 1 });
    expect(await remaining(db.url)).toEqual({ tasks: [recentDead], attempts: 1 });
    const mirrored = await withQueue(prefix, DEAD_LETTER_QUEUE, async (queue) => (await queue.getJobs(['waiting'])).map((job) => job.id));
    expect(mirrored).toEqual([recentDead]);
    expect(monitor?.logs.matching(/retention removed 2 tasks and 3 attempts .*\(completed, cancelled, dead; 1 batch\(es\)/)).toHaveLength(1);
  });

  it('finds nothing to do in one statement when nothing is old enough', async () => {
    const run = await monitor?.app.get(RetentionProcessor).run();
    expect(run).toMatchObject({ tasks: 0, attempts: 0, batches: 1 });
  });

  it('selects the expired tasks through the retention index', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // Tiny tables are read sequentially whatever the indexes: ask for the plan with that ruled out.
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM tasks WHERE status = ANY($1::text[]) AND finished_at < $2 LIMIT 1000 FOR UPDATE SKIP LOCKED`,
        [['completed', 'cancelled'], new Date(Date.now() - 30 * DAY_MS)],
      );
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using tasks_finished_idx/);
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });
});

describe('retention while Redis is away', () => {
  const db = testDatabase('monitor_retention_outage');
  const prefix = uniquePrefix('monitor-retention-outage');
  let redis: PrivateRedis;
  let monitor: MonitorTestApp | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    monitor = await startMonitor({
      DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, SCHEDULE_SYNC_INTERVAL_MS: '200', SHUTDOWN_TIMEOUT_MS: '1000',
      RETENTION_CRON: '0 0 1 1 *', RETENTION_INCLUDE_DEAD: 'true', RETENTION_DAYS: '7', RECONCILE_INTERVAL_MS: '0',
    });
  });

  afterAll(async () => {
    await monitor?.close();
    await redis.stop();
    await db.drop();
  });

  it('fails fast while Redis is down: the scheduler check and the dead-letter mirror log a warning and go on', async () => {
    await redis.stop();
    try {
      await waitFor(() => (monitor?.logs.matching(/could not check the retention scheduler in Redis/).length ?? 0) > 0, {
        timeoutMs: 3_000,
        description: 'a failed scheduler check',
      });
      await insertTasks(db.url, [{ status: 'dead', daysAgo: 8, attempts: 1 }]);
      await expect(monitor?.app.get(RetentionProcessor).run()).resolves.toMatchObject({ tasks: 1 });
      expect(monitor?.logs.matching(/1 deleted dead task\(s\) are still in the dead-letter mirror/)).toHaveLength(1);
    } finally {
      redis = await startPrivateRedis({ port: Number(new URL(redis.url).port) });
    }
  });

  it('does not wait longer than SHUTDOWN_TIMEOUT_MS for a scheduler check Redis does not answer', async () => {
    await waitFor(() => (monitor?.logs.matching(/the retention scheduler was missing in Redis: registered it again/).length ?? 0) > 0, {
      description: 'the scheduler back in the new Redis',
    });
    const admin = new Redis(redis.url);
    try {
      // Redis holds every command for 4 s: a check starts within the sync interval and waits.
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const scheduler = monitor?.app.get(RetentionScheduler);
      await waitFor(() => scheduler?.['restoring'] !== undefined, { timeoutMs: 2_000, description: 'a scheduler check waiting for Redis' });
      const started = Date.now();
      await scheduler?.beforeApplicationShutdown();
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(monitor?.logs.matching(/the retention scheduler check got no answer from Redis within 1000 ms/)).toHaveLength(1);
    } finally {
      admin.disconnect();
    }
  });
});
