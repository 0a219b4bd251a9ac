/**
 * Worker throughput: a plain BullMQ worker whose processor returns at once, against the
 * taskq worker process (dist) running `noop` tasks with PostgreSQL persistence.
 * Both drain the same number of jobs, added beforehand with the job options taskq uses;
 * each side's clock runs from the first job taken to the last job done.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Client } from 'pg';
import { TaskStatus, getTaskType } from '@taskq/contracts';
import { TaskStore, openDataSource, type NewTask } from '@taskq/persistence';
import { createRedisConnection, jobOptionsFor, queueNameFor, taskBackoffStrategy, type TaskJobData } from '@taskq/queue';
import {
  cpuDelta,
  cpuSnapshot,
  deleteRedisPrefix,
  sleep,
  startNode,
  waitFor,
  withClient,
  type BenchConfig,
  type ChildApp,
  type CpuGroups,
} from './support';

const NOOP = getTaskType('noop');
const CHUNK = 1_000;

export interface WorkerRunResult {
  jobs: number;
  /** First job taken → last job done. */
  seconds: number;
  jobsPerSecond: number;
  failed: number;
  /** CPU seconds per process group during the processing window. */
  cpu: Record<string, number>;
  /** Time from creating the worker (or spawning its process) to its first job. */
  startupSeconds: number;
  notes: string[];
}

export interface TaskqWorkerResult extends WorkerRunResult {
  attempts: number;
  /** Approximate PostgreSQL transactions committed in the bench database while processing. */
  commits: number | null;
  walBytes: number | null;
  /** WAL flushes to disk (server-wide, approximate). */
  walSyncs: number | null;
  /** first attempt started_at → last tasks.finished_at, from the rows the worker wrote. */
  dbWindowSeconds: number;
  /** Progress polls: Redis counters every 20 ms, PostgreSQL once Redis is drained. */
  redisPolls: number;
  postgresPolls: number;
  pollAverageMs: number;
  /** How the worker process ended on SIGTERM. */
  workerExit: string;
  workerOutput: string;
}

/** The job data and options TasksService.submit produces for a `noop` task with an empty payload. */
function noopJob(taskId: string): { name: string; data: TaskJobData; opts: ReturnType<typeof jobOptionsFor> } {
  const data: TaskJobData = { taskId, type: 'noop', payload: {}, backoff: NOOP.backoff, timeoutMs: NOOP.timeoutMs, attemptBase: 0 };
  return { name: 'noop', data, opts: jobOptionsFor({ data, maxAttempts: NOOP.attempts, priority: null, delayMs: 0 }) };
}

async function enqueueNoopJobs(queue: Queue<TaskJobData>, taskIds: string[]): Promise<void> {
  for (let start = 0; start < taskIds.length; start += CHUNK) {
    await queue.addBulk(taskIds.slice(start, start + CHUNK).map(noopJob));
  }
}

async function jobsInQueue(queue: Queue<TaskJobData>): Promise<number> {
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** A queue on its own connection; `close` also closes the connection (BullMQ leaves given ones open). */
function newQueue(redisUrl: string, prefix: string): { queue: Queue<TaskJobData>; close: () => Promise<void> } {
  const connection = createRedisConnection(redisUrl, 'worker');
  const queue = new Queue<TaskJobData>(queueNameFor('noop'), { connection, prefix });
  queue.on('error', () => undefined);
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

/** Raw BullMQ: enqueue N jobs, then time a plain Worker (same concurrency) draining them. */
export async function benchRawWorker(config: BenchConfig, prefix: string, cpuGroups: CpuGroups): Promise<WorkerRunResult> {
  const n = config.jobs;
  const { queue, close } = newQueue(config.redisUrl, prefix);
  const workerConnection = createRedisConnection(config.redisUrl, 'worker');
  let worker: Worker<TaskJobData> | undefined;
  try {
    await enqueueNoopJobs(
      queue,
      Array.from({ length: n }, () => randomUUID()),
    );
    const queued = await jobsInQueue(queue);
    if (queued !== n) throw new Error(`raw bench: ${queued} jobs in the queue after adding ${n}`);

    let created = 0;
    let firstActive = 0;
    let lastDone = 0;
    let completed = 0;
    let failed = 0;
    const finish = (): void => {
      if (completed + failed === n) lastDone = performance.now();
    };
    worker = new Worker<TaskJobData>(queueNameFor('noop'), async () => null, {
      connection: workerConnection,
      prefix,
      concurrency: NOOP.concurrency,
      autorun: false,
      settings: { backoffStrategy: taskBackoffStrategy },
    });
    worker.on('error', () => undefined);
    worker.on('active', () => {
      if (firstActive === 0) firstActive = performance.now();
    });
    worker.on('completed', () => {
      completed++;
      finish();
    });
    worker.on('failed', () => {
      failed++;
      finish();
    });

    const before = cpuSnapshot(cpuGroups);
    created = performance.now();
    void worker.run().catch(() => undefined);
    await waitFor(() => lastDone > 0, { timeoutMs: config.timeoutS * 1_000, intervalMs: 10, description: `the raw worker to finish ${n} jobs` });
    const cpu = cpuDelta(before, cpuSnapshot(cpuGroups));
    const seconds = (lastDone - firstActive) / 1_000;
    return { jobs: n, seconds, jobsPerSecond: n / seconds, failed, cpu, startupSeconds: (firstActive - created) / 1_000, notes: [] };
  } finally {
    await worker?.close().catch(() => undefined);
    workerConnection.disconnect();
    await close();
    await deleteRedisPrefix(config.redisUrl, prefix).catch(() => undefined);
  }
}

interface Progress {
  queued: number;
  unfinished: number;
}

/** Cheap enough to run every 50 ms: only unfinished rows, through the (status, …) index. */
async function taskProgress(client: Client): Promise<Progress> {
  const { rows } = await client.query<Progress>(`
    SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*)::int AS unfinished
      FROM tasks WHERE status IN ('queued', 'active', 'retrying', 'delayed')`);
  const row = rows[0];
  if (!row) throw new Error('no answer from tasks count');
  return row;
}

async function finalCounts(client: Client): Promise<{ completed: number; other: number }> {
  const { rows } = await client.query<{ completed: number; other: number }>(`
    SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
           count(*) FILTER (WHERE status <> 'completed')::int AS other
      FROM tasks`);
  return rows[0] ?? { completed: 0, other: 0 };
}

/** Commits of the bench database; WAL position and WAL flushes (fsyncs) of the whole server. */
async function databaseCounters(databaseUrl: string): Promise<{ commits: number; walLsn: string; walSyncs: number }> {
  return withClient(databaseUrl, async (client) => {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ commits: string; lsn: string; syncs: string }>(
      `SELECT xact_commit::text AS commits, pg_current_wal_lsn()::text AS lsn, (SELECT wal_sync FROM pg_stat_wal)::text AS syncs
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { commits: Number(rows[0]?.commits ?? NaN), walLsn: rows[0]?.lsn ?? '0/0', walSyncs: Number(rows[0]?.syncs ?? NaN) };
  });
}

async function walBytesBetween(databaseUrl: string, from: string, to: string): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes`, [to, from]);
    return Number(rows[0]?.bytes ?? NaN);
  });
}

/**
 * taskq: N `noop` tasks committed through TaskStore and queued with the same job data and
 * options the API uses, while no worker runs; then the real worker process starts and the
 * clock runs until PostgreSQL says every task is completed.
 */
export async function benchTaskqWorker(
  config: BenchConfig,
  options: { databaseUrl: string; prefix: string; cpuGroups: CpuGroups; register: (app: ChildApp) => void },
): Promise<TaskqWorkerResult> {
  const n = config.jobs;
  const { databaseUrl, prefix } = options;
  const notes: string[] = [];
  const taskIds = Array.from({ length: n }, () => randomUUID());

  // Pre-fill: rows first (a 202 means the row is committed), then jobs, as TaskSubmissionService does.
  const dataSource = await openDataSource({ url: databaseUrl, poolSize: 2 });
  try {
    const store = new TaskStore(dataSource);
    const createdAt = new Date();
    for (let start = 0; start < n; start += CHUNK) {
      const rows: NewTask[] = taskIds.slice(start, start + CHUNK).map((id) => ({
        id,
        type: 'noop',
        status: TaskStatus.Queued,
        payload: {},
        priority: null,
        runAt: null,
        maxAttempts: NOOP.attempts,
        backoff: NOOP.backoff,
        timeoutMs: NOOP.timeoutMs,
        idempotencyKey: null,
        requestHash: null,
        tenant: 'default',
        createdAt,
      }));
      await store.insertTasks(rows);
    }
  } finally {
    await dataSource.destroy();
  }
  const { queue, close } = newQueue(config.redisUrl, prefix);
  const poller = await openClient(databaseUrl).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  let redisPolls = 0;
  let polls = 0;
  let worker: ChildApp | undefined;
  try {
    await enqueueNoopJobs(queue, taskIds);
    const queued = await jobsInQueue(queue);
    if (queued !== n) throw new Error(`taskq bench: ${queued} jobs in the queue after adding ${n}`);
    const initial = await taskProgress(poller);
    if (initial.unfinished !== n) throw new Error(`taskq bench: ${initial.unfinished} unfinished tasks after pre-filling ${n}`);
    await sleep(300); // let the pre-fill backends' statistics reach pg_stat_database
    const countersBefore = await databaseCounters(databaseUrl);

    const spawnedAt = Date.now();
    worker = startNode('taskq worker', 'dist/apps/worker/src/main.js', {
      REDIS_URL: config.redisUrl,
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      WORKER_QUEUES: 'noop',
      WORKER_CONCURRENCY: `noop=${NOOP.concurrency}`,
      METRICS_PORT: '-1',
      WORKER_ID: 'bench-worker',
    });
    options.register(worker);
    const running = worker;
    const groups: CpuGroups = { ...options.cpuGroups, 'taskq worker': [running.pid] };

    // Progress is watched in Redis (a few cheap counters) so the bench adds next to no load to
    // PostgreSQL; once Redis holds no waiting or active job, PostgreSQL is asked whether every
    // task is completed (the worker commits the outcome before it acknowledges the job, so by
    // then it should be). CPU is counted from the first poll that sees a job taken.
    let cpuAtStart: ReturnType<typeof cpuSnapshot> | undefined;
    let pollMs = 0;
    await waitFor(
      async () => {
        redisPolls++;
        const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
        const waiting = (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0);
        if (!cpuAtStart && waiting < n) cpuAtStart = cpuSnapshot(groups);
        if (waiting + (counts['active'] ?? 0) + (counts['delayed'] ?? 0) > 0) return false;
        polls++;
        const pollStart = performance.now();
        const progress = await taskProgress(poller);
        pollMs += performance.now() - pollStart;
        return progress.unfinished === 0;
      },
      {
        timeoutMs: config.timeoutS * 1_000,
        intervalMs: 20,
        description: `PostgreSQL to show all ${n} noop tasks finished`,
        abort: () => running.hasExited(),
      },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- worker output ---\n${running.output()}`);
    });
    const doneAt = Date.now();
    const cpu = cpuDelta(cpuAtStart ?? new Map(), cpuSnapshot(groups));
    const final = await finalCounts(poller);
    if (final.completed + final.other !== n) notes.push(`${final.completed + final.other} task rows for ${n} tasks`);
    if (polls > 1) notes.push(`Redis was drained but PostgreSQL still showed unfinished tasks on ${polls - 1} polls`);
    const pollAverageMs = pollMs / Math.max(1, polls);

    const { rows } = await poller.query<{ first_start: Date; last_finish: Date; attempts: number; bad_attempts: number }>(`
      SELECT (SELECT min(started_at) FROM task_attempts) AS first_start,
             (SELECT max(finished_at) FROM tasks) AS last_finish,
             (SELECT count(*)::int FROM task_attempts) AS attempts,
             (SELECT count(*)::int FROM task_attempts WHERE outcome <> 'completed') AS bad_attempts`);
    const stats = rows[0];
    if (!stats?.first_start || !stats.last_finish) throw new Error('taskq bench: no attempt timestamps in PostgreSQL');
    if (final.other > 0) notes.push(`${final.other} tasks ended in a state other than completed`);
    if (final.completed !== n) notes.push(`${final.completed} of ${n} tasks completed`);
    if (stats.attempts !== n) notes.push(`${stats.attempts} attempt rows for ${n} tasks`);
    if (stats.bad_attempts > 0) notes.push(`${stats.bad_attempts} attempts did not complete`);

    await poller.end().catch(() => undefined);
    const workerExit = await running.stop();
    if (workerExit !== 'code 0') notes.push(`the worker ended with ${workerExit} on SIGTERM`);
    await sleep(500); // backends of the stopped worker flush their statistics as they exit
    const countersAfter = await databaseCounters(databaseUrl);
    // Our own polling queries and the counter reads are transactions too.
    const commits = Number.isFinite(countersAfter.commits - countersBefore.commits) ? countersAfter.commits - countersBefore.commits - polls - 6 : null;
    const walBytes = await walBytesBetween(databaseUrl, countersBefore.walLsn, countersAfter.walLsn).catch(() => null);

    const firstStart = stats.first_start.getTime();
    const seconds = (doneAt - firstStart) / 1_000;
    return {
      jobs: n,
      seconds,
      jobsPerSecond: n / seconds,
      failed: final.other,
      cpu,
      startupSeconds: (firstStart - spawnedAt) / 1_000,
      notes,
      attempts: stats.attempts,
      commits,
      walBytes,
      walSyncs: Number.isFinite(countersAfter.walSyncs - countersBefore.walSyncs) ? countersAfter.walSyncs - countersBefore.walSyncs : null,
      dbWindowSeconds: (stats.last_finish.getTime() - firstStart) / 1_000,
      redisPolls,
      postgresPolls: polls,
      pollAverageMs,
      workerExit,
      workerOutput: running.output(),
    };
  } finally {
    await poller.end().catch(() => undefined);
    await close();
    await worker?.stop().catch(() => undefined);
  }
}

async function openClient(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
