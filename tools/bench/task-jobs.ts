/**
 * taskq's own tasks and jobs for the benchmarks. Nothing here builds job data by hand: tasks
 * come from `prepareTask` (what the API stores), rows are written with `TaskAdmissions.insertTasks`
 * (the statement of the API's group commit), jobs are added with `TaskProducer` from
 * `jobSpecFor` / `jobOptionsFor`. When those change (lean jobs, new options), the bench follows.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { SubmitTaskDto, type TaskType } from '@taskq/contracts';
import { TaskAdmissions, openDataSource } from '@taskq/persistence';
import { TaskProducer, connectRedis, jobOptionsFor, type TaskJobData } from '@taskq/queue';
import { jobSpecFor, prepareTask, type PreparedTask } from '@taskq/tasks';

/** Tasks per statement and jobs per `addBulk` when the bench fills a queue. */
export const CHUNK = 1_000;

/** `n` noop tasks with an empty payload, as the API prepares `{"type":"noop","payload":{}}` for tenant `default`. */
export function prepareNoopTasks(n: number, now = new Date()): Promise<PreparedTask[]> {
  return prepareTasks('noop', {}, n, now);
}

/** `n` tasks of `type` with this payload, as the API prepares them for tenant `default`. */
export async function prepareTasks(type: TaskType, payload: Record<string, unknown>, n: number, now = new Date()): Promise<PreparedTask[]> {
  const request = Object.assign(new SubmitTaskDto(), { type, payload });
  const tasks: PreparedTask[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const prepared = await Promise.all(
      Array.from({ length: Math.min(CHUNK, n - start) }, () => prepareTask({ ...request, payload: { ...payload } }, { tenant: 'default', idempotencyKey: null, now })),
    );
    for (const result of prepared) {
      if (!result.ok) throw new Error(`prepareTask refused a ${type} task: ${JSON.stringify(result.errors)}`);
      tasks.push(result.task);
    }
  }
  return tasks;
}

export interface BullJob {
  name: string;
  data: TaskJobData;
  opts: JobsOptions;
}

/** Exactly what `TaskProducer.enqueueMany` adds for these tasks: for raw BullMQ baselines. */
export function bullJobsFor(tasks: PreparedTask[], now = Date.now()): BullJob[] {
  return tasks.map((task) => {
    const spec = jobSpecFor(task, now);
    return { name: spec.data.type, data: spec.data, opts: jobOptionsFor(spec) };
  });
}

/** Commits the rows as the API's group commit does (many tasks per statement). */
export async function insertTaskRows(databaseUrl: string, tasks: PreparedTask[]): Promise<void> {
  const dataSource = await openDataSource({ url: databaseUrl, poolSize: 2 });
  try {
    const store = new TaskAdmissions(dataSource);
    for (let start = 0; start < tasks.length; start += CHUNK) {
      const inserted = await store.insertTasks(tasks.slice(start, start + CHUNK));
      if (inserted.some((isNew) => !isNew)) throw new Error('TaskAdmissions.insertTasks reported an existing task for a fresh id');
    }
  } finally {
    await dataSource.destroy();
  }
}

/** A TaskProducer on its own connection under `prefix` (the API's producer, as the API builds it). */
export async function openProducer(redisUrl: string, prefix: string): Promise<{ producer: TaskProducer; close: () => Promise<void> }> {
  // Producer connections fail fast, so they refuse commands until they are connected.
  const connection = await connectRedis(redisUrl, 'producer', 10_000);
  const producer = new TaskProducer(connection, prefix);
  return {
    producer,
    close: async () => {
      await producer.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

/** Queues the tasks' jobs through the producer, CHUNK jobs per `addBulk`, as a bulk submission would. */
export async function enqueueTasks(producer: TaskProducer, tasks: PreparedTask[]): Promise<void> {
  for (let start = 0; start < tasks.length; start += CHUNK) {
    const now = Date.now();
    await producer.enqueueMany(tasks.slice(start, start + CHUNK).map((task) => jobSpecFor(task, now)));
  }
}

/** Jobs a queue holds in any state but finished. */
export async function jobsInQueue(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'waiting-children');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Jobs waiting to be taken (the backlog a worker has not reached yet). */
export async function waitingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('wait', 'prioritized');
  return (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0);
}

/** How many of the ids have no job in Redis (checked in pipelines of 5,000). */
export async function idsWithoutJob(producer: TaskProducer, ids: string[]): Promise<number> {
  let missing = 0;
  for (let start = 0; start < ids.length; start += 5_000) {
    const presence = await producer.jobPresence(ids.slice(start, start + 5_000).map((id) => ({ id, type: 'noop' as const })));
    missing += presence.filter((state) => state === 'missing').length;
  }
  return missing;
}
