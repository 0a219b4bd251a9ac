import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './redis-connection';
import type { TaskType } from '@taskq/contracts';
import { TEST_REDIS_URL, deleteRedisPrefix, uniquePrefix } from '@taskq/testing';
import { connectRedis } from './redis-connection';
import type { TaskJobSpec } from './task-job';
import { QueueUnavailableError, TaskProducer } from './task-producer';

describe(TaskProducer.name, () => {
  const prefix = uniquePrefix('task-producer');
  let redis: RedisConnection;
  let sut: TaskProducer;

  const spec = (type: TaskType): TaskJobSpec => ({ data: { taskId: randomUUID(), type }, maxAttempts: 3, priority: null, delayMs: 0 });
  const jobIds = async (type: TaskType): Promise<string[]> => (await sut.queue(type).getJobs(['prioritized', 'waiting'])).map((job) => job.id ?? '');

  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    sut = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await sut.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  afterEach(() => jest.restoreAllMocks());

  it('sends jobs enqueued together as one addBulk per queue, and the next ones while it is in flight as the next', async () => {
    const addBulk = jest.spyOn(sut.queue('noop'), 'addBulk');
    const first = Array.from({ length: 20 }, () => spec('noop'));
    const firstDone = Promise.all(first.map((job) => sut.enqueue(job)));
    // Enqueued while the first batch is on its way: they wait for it, then go together.
    await new Promise((resolve) => setImmediate(resolve));
    const second = Array.from({ length: 5 }, () => spec('noop'));
    await Promise.all([firstDone, ...second.map((job) => sut.enqueue(job))]);

    expect(addBulk.mock.calls.map(([jobs]) => jobs.length)).toEqual([20, 5]);
    expect((await jobIds('noop')).sort()).toEqual([...first, ...second].map((job) => job.data.taskId).sort());
  });

  it('refuses exactly the jobs of the batch that failed', async () => {
    // A Redis key of the wrong type makes every add to the email queue fail (WRONGTYPE).
    await redis.set(sut.queue('email').toKey('prioritized'), 'not a sorted set');
    const outcomes = await Promise.allSettled([spec('email'), spec('sleep'), spec('email'), spec('sleep')].map((job) => sut.enqueue(job)));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(QueueUnavailableError) });
    expect(await jobIds('sleep')).toHaveLength(2);
    await redis.del(sut.queue('email').toKey('prioritized'));
    await expect(sut.enqueue(spec('email'))).resolves.toBeUndefined();
  });

  it('sends what it holds before it closes', async () => {
    const other = new TaskProducer(redis, prefix);
    const job = spec('report');
    const queued = other.enqueue(job);
    await other.close();
    await expect(queued).resolves.toBeUndefined();
    expect(await jobIds('report')).toEqual([job.data.taskId]);
  });
});
