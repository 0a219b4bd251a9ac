/**
 * Redis memory per queued job: `INFO memory` used_memory before and after queueing N taskq
 * jobs (prepared tasks, queued through TaskProducer as the worker section does), against N
 * plain BullMQ jobs with the same options and empty data. used_memory is server-wide, so other
 * clients of the same Redis disturb it; the sum of `MEMORY USAGE` over the prefix's keys is
 * printed beside it as a cross-check that only sees the bench's keys.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { createRedisConnection, jobOptionsFor, queueNameFor } from '@taskq/queue';
import { jobSpecFor } from '@taskq/tasks';
import { log, type BenchContext } from './context';
import { CHUNK, enqueueTasks, jobsInQueue, openProducer, prepareNoopTasks } from './task-jobs';
import { deleteRedisPrefix, sleep } from './support';

export interface RedisMemoryRun {
  jobs: number;
  /** used_memory after − before, bytes. */
  usedMemoryDelta: number;
  /** Sum of MEMORY USAGE over the prefix's keys, bytes. */
  keyBytes: number;
  keys: number;
  /** One job's hash as stored (HGETALL), for the report. */
  sampleFields: Record<string, string>;
}

export interface RedisMemoryResult {
  taskq: RedisMemoryRun;
  /** Plain BullMQ jobs with taskq's options and empty data: the baseline. */
  plain: RedisMemoryRun;
  /** Plain BullMQ jobs with BullMQ's default options (only the jobId) and empty data: where the options' bytes show. */
  bare: RedisMemoryRun;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

async function keyUsage(redis: Redis, prefix: string): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [error, size] of (await pipeline.exec()) ?? []) {
      if (!error && typeof size === 'number') bytes += size;
    }
    keys += batch.length;
  } while (cursor !== '0');
  return { bytes, keys };
}

async function measure(redis: Redis, prefix: string, jobs: number, sampleKey: string, queueJobs: () => Promise<void>): Promise<RedisMemoryRun> {
  await sleep(200);
  const before = await usedMemory(redis);
  await queueJobs();
  const after = await usedMemory(redis);
  const { bytes, keys } = await keyUsage(redis, prefix);
  const sampleFields = await redis.hgetall(sampleKey);
  return { jobs, usedMemoryDelta: after - before, keyBytes: bytes, keys, sampleFields };
}

/** Plain BullMQ jobs (empty data) with the given options, CHUNK per addBulk. */
async function measurePlain(redis: Redis, redisUrl: string, prefix: string, optionsOf: (taskId: string) => JobsOptions, ids: string[]): Promise<RedisMemoryRun> {
  const connection = createRedisConnection(redisUrl, 'worker');
  const queue = new Queue(queueNameFor('noop'), { connection, prefix });
  queue.on('error', () => undefined);
  try {
    await queue.waitUntilReady();
    const jobs = ids.map((id) => ({ name: 'noop', data: {}, opts: optionsOf(id) }));
    const run = await measure(redis, prefix, ids.length, queue.toKey(ids[0] ?? ''), async () => {
      for (let start = 0; start < jobs.length; start += CHUNK) await queue.addBulk(jobs.slice(start, start + CHUNK));
    });
    const queued = await jobsInQueue(queue);
    if (queued !== ids.length) throw new Error(`Redis memory: ${queued} plain jobs queued under ${prefix}, expected ${ids.length}`);
    return run;
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
  }
}

export async function benchRedisMemory(ctx: BenchContext, prefixes: { taskq: string; plain: string; bare: string }): Promise<RedisMemoryResult> {
  const { config } = ctx;
  const n = config.memoryJobs;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    log(`Redis memory: ${n} taskq jobs`);
    const tasks = await prepareNoopTasks(n);
    const { producer, close } = await openProducer(config.redisUrl, prefixes.taskq);
    let taskq: RedisMemoryRun;
    try {
      await producer.queue('noop').waitUntilReady();
      taskq = await measure(redis, prefixes.taskq, n, producer.queue('noop').toKey(tasks[0]?.id ?? ''), () => enqueueTasks(producer, tasks));
      const queued = await jobsInQueue(producer.queue('noop'));
      if (queued !== n) throw new Error(`Redis memory: ${queued} taskq jobs queued, expected ${n}`);
    } finally {
      await close();
    }
    await deleteRedisPrefix(config.redisUrl, prefixes.taskq);

    log(`Redis memory: ${n} plain BullMQ jobs (empty data, same options; then BullMQ's default options)`);
    const now = Date.now();
    const options = new Map(tasks.map((task) => [task.id, jobOptionsFor(jobSpecFor(task, now))]));
    const ids = tasks.map((task) => task.id);
    // Same options as taskq's job of the same task (its id as jobId); the data is left empty.
    const plain = await measurePlain(redis, config.redisUrl, prefixes.plain, (id) => options.get(id) ?? { jobId: id }, ids);
    const bare = await measurePlain(redis, config.redisUrl, prefixes.bare, (id) => ({ jobId: id }), ids);
    return { taskq, plain, bare };
  } finally {
    redis.disconnect();
  }
}
