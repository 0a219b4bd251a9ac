/**
 * Bulk intake: one client sends `POST /tasks/bulk` with BENCH_BULK_SIZE noop tasks per request,
 * back to back, to the real API, until BENCH_BULK_TASKS tasks are accepted; against raw BullMQ
 * `addBulk` of the same jobs (taskq's job data and options), one call after another, from the
 * bench process. Afterwards every accepted task must have its row and its job.
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Client as HttpClient } from 'undici';
import { createRedisConnection, queueNameFor } from '@taskq/queue';
import { BENCH_API_KEY, databaseCounters, log, type BenchContext } from './context';
import { inProcessProfile, type InProcessProfile } from './profile';
import { bullJobsFor, idsWithoutJob, jobsInQueue, openProducer, prepareNoopTasks } from './task-jobs';
import { cpuDelta, cpuSnapshot, deleteRedisPrefix, monotonicUs, percentile, sleep, type ProcessMemory, type Window } from './support';

export interface BulkRun {
  requests: number;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  /** Per request (taskq) or per addBulk call (raw), in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpu: Record<string, number>;
}

export interface TaskqBulkRun extends BulkRun {
  statusCodes: Record<string, number>;
  errors: number;
  /** The first answer that was not a 202, shortened. */
  firstProblem: string | undefined;
  acceptedIds: string[];
}

export interface BulkResult {
  size: number;
  taskq: TaskqBulkRun;
  raw: BulkRun & { profile?: InProcessProfile };
  warmupAccepted: number;
  /** Rows in tasks after the run (warm-up and run). */
  rows: number;
  missingRows: number;
  missingJobs: number;
  jobsInRedis: number;
  commits: number | null;
  apiExit: string;
  apiOutput: string;
  apiMemory: ProcessMemory;
  apiProfile: string | undefined;
  /** The measured run, for cutting the API's profile. */
  window: Window;
}

export function bulkBody(size: number): string {
  return JSON.stringify({ tasks: Array.from({ length: size }, () => ({ type: 'noop', payload: {} })) });
}

const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };

/** Sends bulk requests back to back on one connection until `until` says stop. */
async function sendBulk(client: HttpClient, body: string, until: (requests: number, startedMs: number) => boolean, collectIds: boolean): Promise<Omit<TaskqBulkRun, 'cpu'>> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const acceptedIds: string[] = [];
  let errors = 0;
  let tasks = 0;
  let firstProblem: string | undefined;
  const started = performance.now();
  while (!until(latencies.length, started)) {
    const sent = performance.now();
    try {
      const answer = await client.request({ path: '/tasks/bulk', method: 'POST', headers, body });
      const text = await answer.body.text();
      latencies.push(performance.now() - sent);
      statusCodes[answer.statusCode] = (statusCodes[answer.statusCode] ?? 0) + 1;
      if (answer.statusCode === 202) {
        const parsed = JSON.parse(text) as { count: number; tasks: Array<{ id: string }> };
        tasks += parsed.count;
        if (collectIds) for (const task of parsed.tasks) acceptedIds.push(task.id);
      } else {
        firstProblem ??= `${answer.statusCode} ${text.slice(0, 300)}`;
        // A refused request is not retried at once: a broken API would otherwise spin.
        await sleep(100);
      }
    } catch (error) {
      latencies.push(performance.now() - sent);
      errors++;
      firstProblem ??= (error as Error).message;
      await sleep(100);
    }
  }
  const seconds = (performance.now() - started) / 1_000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    tasks,
    seconds,
    tasksPerSecond: tasks / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    statusCodes,
    errors,
    firstProblem,
    acceptedIds,
  };
}

export async function benchBulk(ctx: BenchContext, prefixes: { api: string; raw: string }): Promise<BulkResult> {
  const { config } = ctx;
  const size = config.bulkSize;
  const requests = Math.ceil(config.bulkTasks / size);
  const body = bulkBody(size);

  // ---- taskq: the real API ----
  log(`bulk intake: starting the taskq API`);
  const { app: api, url } = await ctx.startApi('bulk', prefixes.api);
  await sleep(300);
  const ownBefore = ctx.ownQueries();
  const countersBefore = await databaseCounters(ctx.databaseUrl);
  const client = new HttpClient(url, { pipelining: 1, keepAliveTimeout: 60_000, bodyTimeout: ctx.waitMs, headersTimeout: ctx.waitMs });
  let taskq: TaskqBulkRun;
  let warmupAccepted = 0;
  let window: Window = { fromUs: 0, toUs: 0 };
  try {
    if (config.warmupS > 0) {
      log(`bulk intake: warming up (${config.warmupS} s)`);
      const warmupMs = config.warmupS * 1_000;
      warmupAccepted = (await sendBulk(client, body, (done, started) => done > 0 && performance.now() - started >= warmupMs, false)).tasks;
    }
    log(`bulk intake: ${requests} × POST /tasks/bulk of ${size} noop tasks, one client`);
    const groups = { ...ctx.cpuGroups, 'api process': [api.pid] };
    const before = cpuSnapshot(groups);
    const fromUs = monotonicUs();
    const deadline = performance.now() + ctx.waitMs;
    const run = await sendBulk(client, body, (done) => done >= requests || performance.now() > deadline, true);
    taskq = { ...run, cpu: cpuDelta(before, cpuSnapshot(groups)) };
    window = { fromUs, toUs: monotonicUs() };
  } finally {
    await client.close().catch(() => undefined);
  }
  log(`  ${Math.round(taskq.tasksPerSecond)} tasks/s`);

  // Every accepted task has its row and its job.
  await ctx.analyze();
  const [counts] = await ctx.query<{ rows: number; missing: number }>(
    `SELECT (SELECT count(*)::int FROM tasks) AS rows,
            (SELECT count(*)::int FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.id)) AS missing`,
    [taskq.acceptedIds],
  );
  const { producer, close: closeProducer } = await openProducer(config.redisUrl, prefixes.api);
  let missingJobs: number;
  let jobsInRedis: number;
  try {
    missingJobs = await idsWithoutJob(producer, taskq.acceptedIds);
    jobsInRedis = await jobsInQueue(producer.queue('noop'));
  } finally {
    await closeProducer();
  }
  const apiMemory = api.memory();
  const apiExit = await api.stop();
  await sleep(500);
  const countersAfter = await databaseCounters(ctx.databaseUrl);
  const own = ctx.ownQueries() - ownBefore + 4;
  const commits = Number.isFinite(countersAfter.commits - countersBefore.commits) ? countersAfter.commits - countersBefore.commits - own : null;
  await deleteRedisPrefix(config.redisUrl, prefixes.api);

  // ---- raw: addBulk from the bench process ----
  log(`bulk intake: raw BullMQ addBulk, ${requests} calls of ${size} jobs`);
  const tasks = await prepareNoopTasks(requests * size);
  const warmup = bullJobsFor(await prepareNoopTasks(size));
  const connection = createRedisConnection(config.redisUrl, 'worker');
  const queue = new Queue(queueNameFor('noop'), { connection, prefix: prefixes.raw });
  queue.on('error', () => undefined);
  let raw: BulkResult['raw'];
  try {
    await queue.addBulk(warmup); // loads BullMQ's scripts into Redis, as the API's warm-up does
    const now = Date.now();
    const calls = Array.from({ length: requests }, (_, index) => bullJobsFor(tasks.slice(index * size, (index + 1) * size), now));
    const latencies: number[] = [];
    const profiler = ctx.profileDir ? await inProcessProfile.start() : undefined;
    const before = cpuSnapshot(ctx.cpuGroups);
    const started = performance.now();
    for (const jobs of calls) {
      const sent = performance.now();
      await queue.addBulk(jobs);
      latencies.push(performance.now() - sent);
    }
    const seconds = (performance.now() - started) / 1_000;
    const cpu = cpuDelta(before, cpuSnapshot(ctx.cpuGroups));
    const profile = profiler && ctx.profileDir ? await profiler.stop(ctx.profileDir, 'bulk-raw-addBulk') : undefined;
    const queued = await jobsInQueue(queue);
    if (queued !== tasks.length + warmup.length) throw new Error(`raw addBulk: ${queued} jobs in the queue after adding ${tasks.length + warmup.length}`);
    const sorted = latencies.sort((a, b) => a - b);
    raw = {
      requests,
      tasks: tasks.length,
      seconds,
      tasksPerSecond: tasks.length / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? NaN,
      cpu,
      profile,
    };
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await deleteRedisPrefix(config.redisUrl, prefixes.raw).catch(() => undefined);
  }
  log(`  ${Math.round(raw.tasksPerSecond)} tasks/s`);

  return {
    size,
    taskq,
    raw,
    warmupAccepted,
    rows: counts?.rows ?? NaN,
    missingRows: counts?.missing ?? NaN,
    missingJobs,
    jobsInRedis,
    commits,
    apiExit,
    apiOutput: api.output(),
    apiMemory,
    apiProfile: api.profileFile,
    window,
  };
}
