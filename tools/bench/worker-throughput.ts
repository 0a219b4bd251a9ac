/**
 * Worker throughput: a plain BullMQ worker whose processor returns at once, against the
 * taskq worker process (dist) running `noop` tasks with PostgreSQL persistence.
 * Both drain the same number of jobs, added beforehand with the job options taskq uses;
 * each side's clock runs from the first job taken to the last job done.
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Client } from 'pg';
import { createRedisConnection, queueNameFor, taskBackoffStrategy, type TaskJobData } from '@taskq/queue';
import { NOOP_CONCURRENCY, databaseCounters, walBytesBetween, type BenchContext } from './context';
import { inProcessProfile, type InProcessProfile } from './profile';
import { CHUNK, bullJobsFor, type BullJob, enqueueTasks, insertTaskRows, jobsInQueue, openProducer, prepareNoopTasks } from './task-jobs';
import { cpuDelta, cpuSnapshot, monotonicUs, sleep, waitFor, type ChildApp, type CpuGroups, type ProcessMemory, type Window } from './support';

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
  /** The bench process's own profile of the raw run (with --profile). */
  profile?: InProcessProfile;
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
  workerMemory: ProcessMemory;
  profileFile: string | undefined;
  /** First job seen taken → all done, for cutting the worker's profile. */
  window: Window;
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

async function addInChunks(queue: Queue<TaskJobData>, jobs: BullJob[]): Promise<void> {
  for (let start = 0; start < jobs.length; start += CHUNK) await queue.addBulk(jobs.slice(start, start + CHUNK));
}

/**
 * Raw BullMQ: enqueue N jobs with taskq's job data and options (`jobSpecFor`/`jobOptionsFor`
 * of prepared noop tasks), then time a plain Worker (same concurrency) draining them.
 */
export async function benchRawWorker(ctx: BenchContext, prefix: string): Promise<WorkerRunResult> {
  const { config } = ctx;
  const n = config.jobs;
  const { queue, close } = newQueue(config.redisUrl, prefix);
  const workerConnection = createRedisConnection(config.redisUrl, 'worker');
  let worker: Worker<TaskJobData> | undefined;
  try {
    await addInChunks(queue, bullJobsFor(await prepareNoopTasks(n)));
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
      concurrency: NOOP_CONCURRENCY,
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

    const profiler = ctx.profileDir ? await inProcessProfile.start() : undefined;
    const before = cpuSnapshot(ctx.cpuGroups);
    created = performance.now();
    void worker.run().catch(() => undefined);
    await waitFor(() => lastDone > 0, { timeoutMs: ctx.waitMs, intervalMs: 10, description: `the raw worker to finish ${n} jobs` });
    const cpu = cpuDelta(before, cpuSnapshot(ctx.cpuGroups));
    const profile = profiler && ctx.profileDir ? await profiler.stop(ctx.profileDir, 'worker-raw-bullmq') : undefined;
    const seconds = (lastDone - firstActive) / 1_000;
    return { jobs: n, seconds, jobsPerSecond: n / seconds, failed, cpu, startupSeconds: (firstActive - created) / 1_000, notes: [], profile };
  } finally {
    await worker?.close().catch(() => undefined);
    workerConnection.disconnect();
    await close();
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

/**
 * taskq: N `noop` tasks prepared as the API prepares them, committed through TaskAdmissions and
 * queued through TaskProducer while no worker runs; then the real worker process starts and
 * the clock runs until PostgreSQL says every task is completed.
 */
export async function benchTaskqWorker(ctx: BenchContext, prefix: string): Promise<TaskqWorkerResult> {
  const { config, databaseUrl } = ctx;
  const n = config.jobs;
  const notes: string[] = [];

  // Pre-fill: rows first (a 202 means the row is committed), then jobs, as TaskSubmissionService does.
  const tasks = await prepareNoopTasks(n);
  await insertTaskRows(databaseUrl, tasks);
  const { producer, close: closeProducer } = await openProducer(config.redisUrl, prefix);
  try {
    await enqueueTasks(producer, tasks);
  } finally {
    await closeProducer();
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
    const queued = await jobsInQueue(queue);
    if (queued !== n) throw new Error(`taskq bench: ${queued} jobs in the queue after adding ${n}`);
    const initial = await taskProgress(poller);
    if (initial.unfinished !== n) throw new Error(`taskq bench: ${initial.unfinished} unfinished tasks after pre-filling ${n}`);
    await sleep(300); // let the pre-fill backends' statistics reach pg_stat_database
    const countersBefore = await databaseCounters(databaseUrl);

    const spawnedAt = Date.now();
    worker = ctx.startWorker('worker', prefix);
    const running = worker;
    const groups: CpuGroups = { ...ctx.cpuGroups, 'taskq worker': [running.pid] };

    // Progress is watched in Redis (a few cheap counters) so the bench adds next to no load to
    // PostgreSQL; once Redis holds no waiting or active job, PostgreSQL is asked whether every
    // task is completed (the worker commits the outcome before it acknowledges the job, so by
    // then it should be). CPU is counted from the first poll that sees a job taken.
    let cpuAtStart: ReturnType<typeof cpuSnapshot> | undefined;
    let windowFrom = 0;
    let pollMs = 0;
    await waitFor(
      async () => {
        redisPolls++;
        const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
        const waiting = (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0);
        if (!cpuAtStart && waiting < n) {
          cpuAtStart = cpuSnapshot(groups);
          windowFrom = monotonicUs();
        }
        if (waiting + (counts['active'] ?? 0) + (counts['delayed'] ?? 0) > 0) return false;
        polls++;
        const pollStart = performance.now();
        const progress = await taskProgress(poller);
        pollMs += performance.now() - pollStart;
        return progress.unfinished === 0;
      },
      {
        timeoutMs: ctx.waitMs,
        intervalMs: 20,
        description: `PostgreSQL to show all ${n} noop tasks finished`,
        abort: () => running.hasExited(),
      },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- worker output ---\n${running.output()}`);
    });
    const doneAt = Date.now();
    const window: Window = { fromUs: windowFrom, toUs: monotonicUs() };
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
      workerMemory: running.memory(),
      profileFile: running.profileFile,
      window,
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
