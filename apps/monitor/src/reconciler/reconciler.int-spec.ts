import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { RedisConnection } from '@taskq/queue';
import { Client } from 'pg';
import { isTaskType, type BackoffPolicy, type TaskType } from '@taskq/contracts';
import { TaskqMetrics } from '@taskq/observability';
import { LOST_RUN_ERROR, openPreparedDataSource } from '@taskq/persistence';
import { DeadLetterMirror, REMOVE_ON_COMPLETE, REMOVE_ON_FAIL, TASK_BACKOFF, TaskProducer, UNPRIORITISED, connectRedis, taskBackoffStrategy, type TaskJobData, type TaskJobSpec } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, parsePrometheusText, queryDatabase, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { startMonitor, type MonitorTestApp } from '../testing/monitor-test-app';
import { FINISHED_JOB_ERROR, LOST_ATTEMPT_ERROR, Reconciler, totalRepairs, totalRequeued, type ReconcileRun } from './reconciler';
import { ReconcilerLoop } from './reconciler-loop';

jest.setTimeout(30_000);

const HOUR = 3_600_000;
const backoff: BackoffPolicy = { type: 'fixed', delayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' };
const PAYLOADS: Record<string, unknown> = {
  noop: {},
  sleep: { ms: 10 },
  webhook: { url: 'https://example.com/hook' },
  email: { to: 'ops@example.com', subject: 'hello', text: 'hi' },
  fax: { number: '+3312345678' },
};

interface Seed {
  type: TaskType | 'fax';
  status: 'queued' | 'delayed' | 'retrying' | 'active' | 'completed' | 'dead' | 'cancelled';
  /** How long ago the task last changed (updated_at; for an active task, its attempt's start). */
  agoMs: number;
  attemptsMade?: number;
  attemptBase?: number;
  maxAttempts?: number;
  priority?: number | null;
  runAt?: Date | null;
  nextAttemptAt?: Date | null;
  timeoutMs?: number;
}

interface SeededTask extends Required<Omit<Seed, 'agoMs'>> {
  id: string;
  updatedAt: Date;
}

/** Writes tasks as the API and workers would have left them, with their attempts (the last one of an active task running). */
async function seed(url: string, seeds: Seed[]): Promise<SeededTask[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    const tasks: SeededTask[] = [];
    for (const s of seeds) {
      const task: SeededTask = {
        id: randomUUID(), type: s.type, status: s.status, attemptsMade: s.attemptsMade ?? 0, attemptBase: s.attemptBase ?? 0,
        maxAttempts: s.maxAttempts ?? 3, priority: s.priority ?? null, runAt: s.runAt ?? null, nextAttemptAt: s.nextAttemptAt ?? null,
        timeoutMs: s.timeoutMs ?? 1_000, updatedAt: new Date(now - s.agoMs),
      };
      const finished = ['completed', 'dead', 'cancelled'].includes(task.status) ? task.updatedAt : null;
      await client.query(
        `INSERT INTO tasks (id, type, status, payload, priority, run_at, max_attempts, attempts_made, attempt_base, backoff, timeout_ms,
                            next_attempt_at, created_at, updated_at, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          task.id, task.type, task.status, JSON.stringify(PAYLOADS[task.type]), task.priority, task.runAt, task.maxAttempts, task.attemptsMade,
          task.attemptBase, JSON.stringify(backoff), task.timeoutMs, task.nextAttemptAt, new Date(now - s.agoMs - HOUR), task.updatedAt,
          task.attemptsMade > 0 ? new Date(now - s.agoMs - HOUR / 2) : null, finished,
        ],
      );
      for (let number = 1; number <= task.attemptsMade; number++) {
        const last = number === task.attemptsMade;
        const outcome = last && task.status === 'active' ? 'running' : last && task.status === 'completed' ? 'completed' : 'failed';
        await client.query(
          `INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome)
           VALUES ($1, $2, 'worker-gone', $3, $4, $5, $6)`,
          outcome === 'running'
            ? [task.id, number, task.updatedAt, null, null, outcome]
            : [task.id, number, new Date(task.updatedAt.getTime() - 60_000 * number), new Date(task.updatedAt.getTime() - 60_000 * number + 5), 5, outcome],
        );
      }
      tasks.push(task);
    }
    return tasks;
  } finally {
    await client.end();
  }
}

/** The job the API queued for a task when it was submitted. */
function submittedJob(task: SeededTask, delayMs = 0): TaskJobSpec {
  if (task.type === 'fax') throw new Error('a task of an unregistered type has no job');
  return { data: { taskId: task.id, type: task.type }, maxAttempts: task.maxAttempts, priority: task.priority, delayMs };
}

async function attemptsOf(url: string, id: string): Promise<Array<{ number: number; outcome: string; error: string | null; finished: boolean; duration_ms: number | null }>> {
  return queryDatabase(url, `SELECT number, outcome, error, finished_at IS NOT NULL AS finished, duration_ms FROM task_attempts WHERE task_id = $1 ORDER BY number`, [id]);
}

async function taskRow(url: string, id: string): Promise<{ status: string; attempt_base: number; attempts_made: number }> {
  const [row] = await queryDatabase<{ status: string; attempt_base: number; attempts_made: number }>(url, 'SELECT status, attempt_base, attempts_made FROM tasks WHERE id = $1', [id]);
  if (!row) throw new Error(`task ${id} is gone`);
  return row;
}

describe(Reconciler.name, () => {
  const db = testDatabase('monitor_reconciler');
  const prefix = uniquePrefix('monitor-reconciler');
  let monitor: MonitorTestApp | undefined;
  let second: MonitorTestApp | undefined;
  let sut: Reconciler;
  let redis: RedisConnection;
  let producer: TaskProducer;
  let worker: Worker<TaskJobData> | undefined;
  const workerConnections: RedisConnection[] = [];
  const byName = new Map<string, SeededTask>();
  const task = (name: string): SeededTask => {
    const found = byName.get(name);
    if (!found) throw new Error(`no task ${name}`);
    return found;
  };
  const job = async (name: string): Promise<Job<TaskJobData> | undefined> => {
    const { type, id } = task(name);
    // No queue for an unregistered type: no key of this deployment may name the task.
    if (!isTaskType(type)) return (await redis.keys(`${prefix}:*${id}*`)).length > 0 ? ({} as Job<TaskJobData>) : undefined;
    return (await producer.queue(type).getJob(id)) as Job<TaskJobData> | undefined;
  };
  const jobNames = async (names: string[]): Promise<string[]> => {
    const present = await Promise.all(names.map(async (name) => ((await job(name)) ? name : undefined)));
    return present.filter((name): name is string => name !== undefined);
  };

  const ALL = ['E1', 'E2', 'E3', 'E4', 'E5', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'Y1', 'Y2', 'F1', 'F2', 'F3', 'U1'];

  beforeAll(async () => {
    // The loop is off: each test runs the reconciler itself. Pages of 2, so every status spans several.
    monitor = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MS: '0', RECONCILE_GRACE_MS: '60000', RECONCILE_BATCH_SIZE: '2' });
    sut = monitor.app.get(Reconciler);
    redis = await connectRedis(TEST_REDIS_URL, 'worker', 5_000);
    producer = new TaskProducer(redis, prefix);

    const now = Date.now();
    const seeds: Record<string, Seed> = {
      // Jobs that exist, in several states.
      E1: { type: 'noop', status: 'queued', agoMs: HOUR },
      E2: { type: 'sleep', status: 'delayed', agoMs: HOUR, runAt: new Date(now + HOUR) },
      E3: { type: 'email', status: 'retrying', agoMs: HOUR, attemptsMade: 1, nextAttemptAt: new Date(now + 60_000) },
      E4: { type: 'email', status: 'active', agoMs: HOUR, attemptsMade: 1 },
      E5: { type: 'webhook', status: 'active', agoMs: HOUR, attemptsMade: 1 },
      // Jobs that are missing.
      M1: { type: 'noop', status: 'queued', agoMs: HOUR, priority: 5 },
      M2: { type: 'sleep', status: 'delayed', agoMs: HOUR, runAt: new Date(now + HOUR) },
      M3: { type: 'webhook', status: 'retrying', agoMs: HOUR, attemptsMade: 2, maxAttempts: 5, nextAttemptAt: new Date(now + 10 * 60_000) },
      M4: { type: 'noop', status: 'retrying', agoMs: HOUR, attemptsMade: 1, nextAttemptAt: new Date(now - 30 * 60_000) },
      M5: { type: 'sleep', status: 'active', agoMs: HOUR, attemptsMade: 2, maxAttempts: 3 },
      M6: { type: 'noop', status: 'queued', agoMs: HOUR, attemptsMade: 4, attemptBase: 4, maxAttempts: 2 },
      // Too young: changed within the grace period; an active one whose attempt may still run.
      Y1: { type: 'noop', status: 'queued', agoMs: 0 },
      Y2: { type: 'sleep', status: 'active', agoMs: 2 * 60_000, attemptsMade: 1, timeoutMs: HOUR },
      // Finished.
      F1: { type: 'noop', status: 'completed', agoMs: HOUR, attemptsMade: 1 },
      F2: { type: 'noop', status: 'dead', agoMs: HOUR, attemptsMade: 3 },
      F3: { type: 'noop', status: 'cancelled', agoMs: HOUR },
      // A type this build does not register.
      U1: { type: 'fax', status: 'queued', agoMs: HOUR },
    };
    const names = Object.keys(seeds);
    const seeded = await seed(db.url, names.map((name) => seeds[name] as Seed));
    names.forEach((name, index) => byName.set(name, seeded[index] as SeededTask));

    await producer.enqueue(submittedJob(task('E1')));
    await producer.enqueue(submittedJob(task('E2'), HOUR));
    // E3's first attempt failed and BullMQ holds its retry (delayed); E4's job completed in
    // Redis while PostgreSQL still says active; E5's job is active.
    workerConnections.push(redis.duplicate(), redis.duplicate());
    worker = new Worker<TaskJobData>('{email}', undefined, { connection: workerConnections[0] as RedisConnection, prefix, autorun: false, settings: { backoffStrategy: taskBackoffStrategy } });
    await producer.enqueue(submittedJob(task('E3')));
    const e3 = await worker.getNextJob('token-e3');
    await e3?.moveToFailed(new Error('boom'), 'token-e3');
    await producer.enqueue(submittedJob(task('E4')));
    const e4 = await worker.getNextJob('token-e4');
    await e4?.moveToCompleted(null, 'token-e4', false);
    await producer.enqueue(submittedJob(task('E5')));
    const webhookWorker = new Worker<TaskJobData>('{webhook}', undefined, { connection: workerConnections[1] as RedisConnection, prefix, autorun: false });
    await webhookWorker.getNextJob('token-e5');
    await webhookWorker.close();

    expect(await Promise.all(['E1', 'E2', 'E3', 'E4', 'E5'].map(async (name) => (await job(name))?.getState()))).toEqual([
      'prioritized',
      'delayed',
      'delayed',
      'completed',
      'active',
    ]);
    expect((await job('E3'))?.attemptsMade).toBe(1);
  });

  afterAll(async () => {
    await worker?.close();
    workerConnections.forEach((connection) => connection.disconnect());
    await monitor?.close();
    await second?.close();
    await producer?.close();
    redis?.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('re-queues exactly the settled unfinished tasks whose jobs are missing or finished in Redis, with their options, delays and what is left of their budget', async () => {
    const run = await sut.reconcile();

    expect(run).toMatchObject<Partial<ReconcileRun>>({
      checked: 11,
      requeued: { queued: 2, delayed: 1, retrying: 2, active: 2 },
      requeuedByType: { noop: 3, sleep: 2, webhook: 1, email: 1 },
      // The dead-letter mirror was never synced in this Redis: F2, the dead task, is mirrored.
      repairs: { missing_job: 6, finished_job: 1, stray_job: 0, lost_run: 0, dead_letters: 1 },
      dead: 0,
      unregistered: { fax: 1 },
      interrupted: false,
    });
    expect((await jobNames(ALL)).sort()).toEqual(['E1', 'E2', 'E3', 'E4', 'E5', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6']);

    // Options as the API gives them; the budget continues where it was.
    const m1 = await job('M1');
    expect(m1?.data).toEqual({ taskId: task('M1').id, type: 'noop' });
    expect(m1?.opts).toMatchObject({ jobId: task('M1').id, attempts: 3, priority: 5, delay: 0, backoff: { type: TASK_BACKOFF }, removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: REMOVE_ON_FAIL });
    expect(await m1?.getState()).toBe('prioritized');

    const m2 = await job('M2');
    expect(await m2?.getState()).toBe('delayed');
    expect(Math.abs((m2?.timestamp ?? 0) + (m2?.opts.delay ?? 0) - (task('M2').runAt?.getTime() ?? 0))).toBeLessThan(1_000);
    expect(m2?.opts).toMatchObject({ attempts: 3, priority: UNPRIORITISED });

    // Two attempts failed out of 5: 3 are left.
    const m3 = await job('M3');
    expect(m3?.data).toEqual({ taskId: task('M3').id, type: 'webhook' });
    expect(m3?.opts.attempts).toBe(3);
    expect(await m3?.getState()).toBe('delayed');
    expect(Math.abs((m3?.timestamp ?? 0) + (m3?.opts.delay ?? 0) - (task('M3').nextAttemptAt?.getTime() ?? 0))).toBeLessThan(1_000);

    // Its retry was due half an hour ago: now.
    const m4 = await job('M4');
    expect(m4?.opts).toMatchObject({ attempts: 2, delay: 0 });
    expect(m4?.data).toEqual({ taskId: task('M4').id, type: m4?.name });

    // After a manual retry (4 attempts before it, a fresh budget of 2).
    expect((await job('M6'))?.opts.attempts).toBe(2);

    // The lost active task: queued again; its running attempt interrupted, outside the budget.
    expect(await taskRow(db.url, task('M5').id)).toEqual({ status: 'queued', attempt_base: 1, attempts_made: 2 });
    expect(await attemptsOf(db.url, task('M5').id)).toEqual([
      { number: 1, outcome: 'failed', error: null, finished: true, duration_ms: 5 },
      { number: 2, outcome: 'interrupted', error: LOST_ATTEMPT_ERROR, finished: true, duration_ms: null },
    ]);
    const m5 = await job('M5');
    // Attempt 1 failed (spent), attempt 2 was lost (free): 2 of 3 left.
    expect(m5?.opts.attempts).toBe(2);

    expect(await monitor?.app.get(DeadLetterMirror).queue.getJob(task('F2').id)).toBeDefined();

    // Jobs that wait or run are left alone.
    expect(await (await job('E3'))?.getState()).toBe('delayed');
    expect((await job('E3'))?.attemptsMade).toBe(1);
    expect(await (await job('E5'))?.getState()).toBe('active');
    expect(await taskRow(db.url, task('Y2').id)).toMatchObject({ status: 'active', attempt_base: 0 });

    // E4's job had completed in Redis while PostgreSQL said it ran: nobody runs it. The run is
    // charged as lost (1 of 3), and the task has a new job with what is left.
    expect(await taskRow(db.url, task('E4').id)).toEqual({ status: 'queued', attempt_base: 0, attempts_made: 1 });
    expect(await attemptsOf(db.url, task('E4').id)).toEqual([{ number: 1, outcome: 'lost', error: FINISHED_JOB_ERROR, finished: true, duration_ms: null }]);
    const e4 = await job('E4');
    expect(await e4?.getState()).toBe('prioritized');
    expect(e4?.opts.attempts).toBe(2);
  });

  it('re-queues nothing on a second run', async () => {
    const run = await sut.reconcile();

    expect(totalRequeued(run)).toBe(0);
    expect(totalRepairs(run)).toBe(0);
    // M5 and E4 changed a moment ago (repaired): within the grace period, they are not even looked at.
    expect(run.checked).toBe(9);
  });

  it('after Redis lost every key of the deployment, re-queues every settled unfinished task, and leaves a task changed within the grace period for later', async () => {
    await deleteRedisPrefix(prefix);

    const run = await sut.reconcile();

    expect(run.requeued).toEqual({ queued: 3, delayed: 2, retrying: 3, active: 1 });
    expect((await jobNames(ALL)).sort()).toEqual(['E1', 'E2', 'E3', 'E5', 'M1', 'M2', 'M3', 'M4', 'M6']);
    // E3 had failed once: 2 of 3 left.
    expect((await job('E3'))?.opts.attempts).toBe(2);
    // E5's job vanished while it ran: its attempt is interrupted, outside the budget.
    expect(await attemptsOf(db.url, task('E5').id)).toEqual([{ number: 1, outcome: 'interrupted', error: LOST_ATTEMPT_ERROR, finished: true, duration_ms: null }]);
    expect((await job('E5'))?.opts.attempts).toBe(3);
    expect(await taskRow(db.url, task('E5').id)).toEqual({ status: 'queued', attempt_base: 1, attempts_made: 1 });
  });

  it('run twice at once, by two replicas without a lease, queues each task once and releases each lost attempt once', async () => {
    const [a1, a2] = await seed(db.url, [
      { type: 'noop', status: 'active', agoMs: HOUR, attemptsMade: 1 },
      { type: 'sleep', status: 'active', agoMs: HOUR, attemptsMade: 3, maxAttempts: 5 },
    ]);
    await deleteRedisPrefix(prefix);
    second = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MS: '0', RECONCILE_GRACE_MS: '60000', RECONCILE_BATCH_SIZE: '3' });

    const runs = await Promise.all([sut.reconcile(), second.app.get(Reconciler).reconcile()]);

    expect(runs.reduce((sum, run) => sum + run.requeued.active, 0)).toBe(2);
    for (const lost of [a1, a2]) {
      if (!lost) throw new Error('not seeded');
      expect(await attemptsOf(db.url, lost.id)).toEqual(
        expect.arrayContaining([{ number: lost.attemptsMade, outcome: 'interrupted', error: LOST_ATTEMPT_ERROR, finished: true, duration_ms: null }]),
      );
      expect(await taskRow(db.url, lost.id)).toEqual({ status: 'queued', attempt_base: 1, attempts_made: lost.attemptsMade });
    }
    const sleepJob = await producer.queue('sleep').getJob(a2?.id ?? '');
    // 3 attempts, the last one lost: 2 spent of 5.
    expect(sleepJob?.opts.attempts).toBe(3);
    expect((await jobNames(['E1', 'E2', 'E3', 'M1', 'M2', 'M3', 'M4', 'M6'])).length).toBe(8);
  });

  it('reads each page through tasks_status_created_idx', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // Tiny tables are read sequentially whatever the indexes: ask for the plan with that ruled out.
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id, type, status, created_at, updated_at, attempts_made FROM tasks
          WHERE status = $1 AND updated_at < $2 AND (created_at, id) < ($4, $5::uuid) ORDER BY created_at DESC, id DESC LIMIT $3`,
        ['queued', new Date(), 1000, new Date(), randomUUID()],
      );
      const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index Scan using tasks_status_created_idx/);
      expect(text).toMatch(/Index Cond: .*status.*created_at, id\) < /s);
      expect(text).not.toMatch(/Sort/);
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });
});

describe(`${Reconciler.name}: jobs finished in Redis, stray jobs and stray runs`, () => {
  const db = testDatabase('monitor_reconciler_both_ways');
  const prefix = uniquePrefix('monitor-reconciler-both');
  let monitor: MonitorTestApp | undefined;
  let sut: Reconciler;
  let redis: RedisConnection;
  let producer: TaskProducer;
  const connections: RedisConnection[] = [];

  /** Takes the task's job as a worker would, then fails it for good (BullMQ's stall limit does the same). */
  async function failInRedis(task: SeededTask): Promise<void> {
    const connection = redis.duplicate();
    connections.push(connection);
    const worker = new Worker<TaskJobData>(`{${task.type}}`, undefined, { connection, prefix, autorun: false });
    await producer.enqueue({ ...submittedJob(task), maxAttempts: 1 });
    const taken = await worker.getNextJob(`token-${task.id}`);
    await taken?.moveToFailed(new Error('job stalled more than allowable limit'), `token-${task.id}`);
    await worker.close();
  }

  beforeAll(async () => {
    monitor = await startMonitor({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MS: '0', RECONCILE_GRACE_MS: '60000', ALERT_WEBHOOK_URL: '' });
    sut = monitor.app.get(Reconciler);
    redis = await connectRedis(TEST_REDIS_URL, 'worker', 5_000);
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await monitor?.close();
    await producer?.close();
    connections.forEach((connection) => connection.disconnect());
    redis?.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('gives a new job to an unfinished task whose job failed in Redis, and declares dead an active one whose lost run spent its budget', async () => {
    const [retrying, active, spent] = await seed(db.url, [
      { type: 'noop', status: 'retrying', agoMs: HOUR, attemptsMade: 1, nextAttemptAt: new Date(Date.now() - HOUR) },
      { type: 'noop', status: 'active', agoMs: HOUR, attemptsMade: 1, maxAttempts: 3 },
      { type: 'sleep', status: 'active', agoMs: HOUR, attemptsMade: 2, maxAttempts: 2 },
    ]);
    if (!retrying || !active || !spent) throw new Error('not seeded');
    for (const task of [retrying, active, spent]) await failInRedis(task);

    const run = await sut.reconcile();

    expect(run).toMatchObject({ requeued: { queued: 0, delayed: 0, retrying: 1, active: 1 }, repairs: { finished_job: 3 }, dead: 1 });
    for (const task of [retrying, active]) {
      const job = await producer.queue(task.type as TaskType).getJob(task.id);
      expect(await job?.getState()).toBe('prioritized');
      expect(job?.opts.attempts).toBe(2);
    }
    expect(await taskRow(db.url, active.id)).toEqual({ status: 'queued', attempt_base: 0, attempts_made: 1 });
    expect((await attemptsOf(db.url, active.id)).map((a) => a.outcome)).toEqual(['lost']);
    // Two runs of two: the lost one was the last.
    expect(await taskRow(db.url, spent.id)).toEqual({ status: 'dead', attempt_base: 0, attempts_made: 2 });
    expect((await attemptsOf(db.url, spent.id)).map((a) => a.outcome)).toEqual(['failed', 'lost']);
    expect(await monitor?.app.get(DeadLetterMirror).queue.getJob(spent.id)).toBeDefined();
    await waitFor(() => monitor?.logs.matching(new RegExp(`task ${spent.id} \\(sleep\\) is dead`)).length === 1, { description: 'the death logged by the failure reporter' });

    const scrape = parsePrometheusText(await (monitor?.app.get(TaskqMetrics).text() ?? Promise.resolve('')));
    expect(scrape.value('taskq_reconciler_repairs_total', { type: 'noop', repair: 'finished_job' })).toBe(2);
    expect(scrape.value('taskq_task_attempts_lost_total', { type: 'sleep' })).toBe(1);
    expect(monitor?.logs.matching(/repaired task .* its job had finished in Redis/)).toHaveLength(3);
  });

  it('removes jobs that wait for a finished task or for none, but not one added within the grace period', async () => {
    const [completed, fresh] = await seed(db.url, [
      { type: 'noop', status: 'completed', agoMs: HOUR, attemptsMade: 1 },
      { type: 'noop', status: 'cancelled', agoMs: HOUR },
    ]);
    if (!completed || !fresh) throw new Error('not seeded');
    const unknown = { ...completed, id: randomUUID() };
    for (const task of [completed, unknown]) await producer.enqueue({ ...submittedJob(task), delayMs: HOUR });
    // Jobs look as old as their timestamp says: these two were added an hour ago.
    for (const task of [completed, unknown]) await redis.hset(producer.queue('noop').toKey(task.id), 'timestamp', String(Date.now() - HOUR));
    await producer.enqueue(submittedJob(fresh));

    const run = await sut.reconcile();

    expect(run.repairs.stray_job).toBe(2);
    expect(await producer.queue('noop').getJob(completed.id)).toBeUndefined();
    expect(await producer.queue('noop').getJob(unknown.id)).toBeUndefined();
    expect(await producer.queue('noop').getJob(fresh.id)).toBeDefined();
  });

  it('records as lost an attempt left running on a task that finished meanwhile', async () => {
    const [cancelled] = await seed(db.url, [{ type: 'noop', status: 'cancelled', agoMs: HOUR }]);
    if (!cancelled) throw new Error('not seeded');
    await queryDatabase(db.url, `INSERT INTO task_attempts (task_id, number, worker_id, started_at, outcome) VALUES ($1, 1, 'killed', now() - interval '2 hours', 'running')`, [cancelled.id]);

    const run = await sut.reconcile();

    expect(run.repairs.lost_run).toBe(1);
    expect(await attemptsOf(db.url, cancelled.id)).toEqual([{ number: 1, outcome: 'lost', error: LOST_RUN_ERROR, finished: true, duration_ms: null }]);
  });
});

describe(ReconcilerLoop.name, () => {
  const db = testDatabase('monitor_reconciler_loop');
  const prefix = uniquePrefix('monitor-reconciler-loop');
  const replicas: MonitorTestApp[] = [];
  let redis: RedisConnection;
  let producer: TaskProducer;
  let tasks: SeededTask[];

  const env = { DATABASE_URL: '', QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '1000' };
  const missingJobs = async (): Promise<string[]> =>
    (await Promise.all(tasks.map(async (t) => ((await producer.queue(t.type as TaskType).getJob(t.id)) ? undefined : t.id)))).filter((id): id is string => id !== undefined);
  const requeuedMetric = async (): Promise<number> => {
    let total = 0;
    for (const replica of replicas) {
      const scrape = parsePrometheusText(await replica.app.get(TaskqMetrics).text());
      total += scrape.select('taskq_reconciler_requeued_total').reduce((sum, sample) => sum + sample.value, 0);
    }
    return total;
  };
  const runs = async (): Promise<number> => {
    let total = 0;
    for (const replica of replicas) {
      const scrape = parsePrometheusText(await replica.app.get(TaskqMetrics).text());
      total += scrape.value('taskq_reconciler_run_duration_seconds_count', { result: 'completed' }) ?? 0;
    }
    return total;
  };
  const requeuedLines = (): string[] => replicas.flatMap((replica) => replica.logs.matching(/reconciler repaired/));

  beforeAll(async () => {
    env.DATABASE_URL = db.url;
    await (await openPreparedDataSource({ url: db.url })).destroy();
    tasks = await seed(db.url, [
      { type: 'noop', status: 'queued', agoMs: HOUR },
      { type: 'noop', status: 'queued', agoMs: HOUR },
      { type: 'sleep', status: 'delayed', agoMs: HOUR, runAt: new Date(Date.now() + HOUR) },
      { type: 'webhook', status: 'retrying', agoMs: HOUR, attemptsMade: 1, nextAttemptAt: new Date(Date.now() + HOUR) },
      { type: 'sleep', status: 'active', agoMs: HOUR, attemptsMade: 1 },
    ]);
    redis = await connectRedis(TEST_REDIS_URL, 'worker', 5_000);
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await producer?.close();
    redis?.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('on two replicas started together, re-queues the tasks missing from Redis at start-up, each once, and logs it once', async () => {
    replicas.push(...(await Promise.all([startMonitor(env), startMonitor(env)])));

    await waitFor(async () => (await missingJobs()).length === 0, { timeoutMs: 10_000, description: 'every task has its job' });
    // Several more runs pass (on either replica) and find nothing to do.
    await waitFor(async () => (await runs()) >= 4, { timeoutMs: 10_000, description: 'four reconciler runs' });

    expect(await requeuedMetric()).toBe(5);
    expect(requeuedLines()).toEqual([
      expect.stringMatching(
        /^info \[Reconciler\] reconciler repaired 5 disagreement\(s\) between PostgreSQL and Redis \(missing_job 5\); re-queued 5 tasks \(by status: queued 2, delayed 1, retrying 1, active 1\) in \d+ ms$/,
      ),
    ]);
    expect(await attemptsOf(db.url, tasks[4]?.id ?? '')).toEqual([{ number: 1, outcome: 'interrupted', error: LOST_ATTEMPT_ERROR, finished: true, duration_ms: null }]);
  });

  it('heals a Redis that lost everything within an interval or two, with no call from outside', async () => {
    await deleteRedisPrefix(prefix);
    await waitFor(async () => (await missingJobs()).length === 0, { timeoutMs: 10_000, description: 'every task has its job again' });
    const runsAfter = await runs();
    await waitFor(async () => (await runs()) >= runsAfter + 2, { timeoutMs: 10_000, description: 'two more reconciler runs' });

    expect(await requeuedMetric()).toBe(10);
    expect(requeuedLines().length).toBeGreaterThanOrEqual(2);
    // The released active task is an ordinary queued one now.
    expect(await taskRow(db.url, tasks[4]?.id ?? '')).toEqual({ status: 'queued', attempt_base: 1, attempts_made: 1 });
  });

  it('lets one replica at a time run: a call while the other holds the lease, or within half an interval of its run, does nothing', async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
    // An hour apart: after their start-up runs, the timers stay quiet and the test drives both.
    replicas.push(...(await Promise.all([startMonitor({ ...env, RECONCILE_INTERVAL_MS: '3600000' }), startMonitor({ ...env, RECONCILE_INTERVAL_MS: '3600000' })])));
    const [a, b] = replicas.map((replica) => replica.app.get(ReconcilerLoop));
    if (!a || !b) throw new Error('two replicas expected');
    await Promise.all([a.runNow(), b.runNow()]);
    await redis.del(`${prefix}:{monitor}:reconciler-lease`);

    const together = await Promise.all([a.runNow(), b.runNow()]);
    const right = await Promise.all([a.runNow(), b.runNow()]);

    expect(together.filter((outcome) => outcome.ran)).toHaveLength(1);
    expect(together.find((outcome) => !outcome.ran)).toEqual({ ran: false, reason: 'another replica reconciles, or did a moment ago' });
    expect(right.filter((outcome) => outcome.ran)).toHaveLength(0);
  });
});
