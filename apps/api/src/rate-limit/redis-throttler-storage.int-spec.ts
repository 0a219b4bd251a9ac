import { Redis } from 'ioredis';
import { TEST_REDIS_URL, deleteRedisPrefix, startPrivateRedis, uniquePrefix, waitFor } from '@taskq/testing';
import { RedisThrottlerStorage } from './redis-throttler-storage';

describe(RedisThrottlerStorage.name, () => {
  const prefix = uniquePrefix('throttle');
  let redisA: Redis;
  let redisB: Redis;

  beforeAll(() => {
    redisA = new Redis(TEST_REDIS_URL);
    redisB = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    redisA.disconnect();
    redisB.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('counts hits of every replica against one limit, then blocks for the block duration', async () => {
    const replicaA = new RedisThrottlerStorage(redisA, prefix);
    const replicaB = new RedisThrottlerStorage(redisB, prefix);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await (i % 2 === 0 ? replicaA : replicaB).increment('key-1', 60_000, 4, 1_500, 'default'));

    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, false, true, true]);
    expect(results.map((r) => r.totalHits).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(results[4]?.timeToBlockExpire).toBe(2);
    expect(results[0]?.timeToExpire).toBe(60);
    // Other keys and other throttlers have their own counters.
    expect((await replicaA.increment('key-2', 60_000, 4, 1_500, 'default')).isBlocked).toBe(false);
    expect((await replicaA.increment('key-1', 60_000, 4, 1_500, 'burst')).isBlocked).toBe(false);
  });

  it('opens a new window once the old one expires', async () => {
    const sut = new RedisThrottlerStorage(redisA, prefix);
    expect((await sut.increment('key-3', 300, 1, 0, 'default')).isBlocked).toBe(false);
    expect((await sut.increment('key-3', 300, 1, 0, 'default')).isBlocked).toBe(true);
    await waitFor(async () => !(await sut.increment('key-3', 300, 1, 0, 'default')).isBlocked, { timeoutMs: 5_000, description: 'the window and the block expire' });
  });

  it('lets requests through while Redis does not answer', async () => {
    const privateRedis = await startPrivateRedis();
    const connection = new Redis(privateRedis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    connection.on('error', () => undefined);
    try {
      const sut = new RedisThrottlerStorage(connection, prefix);
      await privateRedis.stop();
      const record = await sut.increment('key-4', 1_000, 1, 0, 'default');
      expect(record).toMatchObject({ isBlocked: false, totalHits: 0 });
    } finally {
      connection.disconnect();
    }
  });
});
