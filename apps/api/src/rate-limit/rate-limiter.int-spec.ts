import { Redis } from 'ioredis';
import { TEST_REDIS_URL, deleteRedisPrefix, startPrivateRedis, uniquePrefix, waitFor } from '@taskq/testing';
import { RateLimiter, type RateLimitDecision } from './rate-limiter';

/** Replicas are limiters on their own Redis connections, sharing one Redis. */
describe(RateLimiter.name, () => {
  const prefix = uniquePrefix('rate-limiter');
  const connections: Redis[] = [];

  const replica = (limit: number, windowMs: number, claimSize?: number): { limiter: RateLimiter; claims: () => number } => {
    const redis = new Redis(TEST_REDIS_URL);
    connections.push(redis);
    const limiter = new RateLimiter(redis, { limit, windowMs, claimSize, prefix });
    // Every claim is one round trip to Redis.
    const claim = jest.spyOn(redis as unknown as Record<string, (...args: unknown[]) => unknown>, 'taskqRateLimitClaim');
    return { limiter, claims: () => claim.mock.calls.length };
  };

  const allowedOf = (decisions: RateLimitDecision[]): number => decisions.filter((decision) => decision.allowed).length;

  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('admits exactly the limit across two replicas, claiming allowance in chunks instead of a round trip per request', async () => {
    const [a, b] = [replica(1_000, 60_000, 50), replica(1_000, 60_000, 50)];
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 1_500; i++) decisions.push(await (i % 2 === 0 ? a : b).limiter.take('key-1'));

    expect(allowedOf(decisions)).toBe(1_000);
    // Once a key is refused on both, it stays refused (and refusals cost no round trip).
    expect(decisions.slice(1_100).every((decision) => !decision.allowed)).toBe(true);
    expect(a.claims() + b.claims()).toBeLessThan(100);
    const refused = decisions[1_499] as RateLimitDecision;
    expect(refused).toMatchObject({ allowed: false, limit: 1_000, remaining: 0 });
    expect(refused.resetSeconds).toBeGreaterThan(0);
    expect(refused.resetSeconds).toBeLessThanOrEqual(60);
  });

  it('never admits more than the limit under concurrent bursts on three replicas, nor refuses more than (replicas − 1) × claim size early', async () => {
    const replicas = [replica(500, 60_000, 20), replica(500, 60_000, 20), replica(500, 60_000, 20)];
    const bursts: Array<Promise<RateLimitDecision>> = [];
    // Uneven, concurrent traffic: every replica keeps asking until the key is used up.
    for (let i = 0; i < 900; i++) bursts.push(Promise.resolve(replicas[(i * 7) % 3]?.limiter.take('key-2') as RateLimitDecision | Promise<RateLimitDecision>));
    const allowed = allowedOf(await Promise.all(bursts));

    expect(allowed).toBeLessThanOrEqual(500);
    expect(allowed).toBeGreaterThanOrEqual(500 - 2 * 20);
  });

  it('counts each key on its own', async () => {
    const { limiter } = replica(2, 60_000);
    expect([await limiter.take('key-3'), await limiter.take('key-3'), await limiter.take('key-3')].map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect((await limiter.take('key-4')).allowed).toBe(true);
  });

  it('opens a new window once the old one ends', async () => {
    const { limiter } = replica(1, 300);
    expect((await limiter.take('key-5')).allowed).toBe(true);
    expect((await limiter.take('key-5')).allowed).toBe(false);
    await waitFor(async () => (await limiter.take('key-5')).allowed, { timeoutMs: 5_000, description: 'the next window admits the key again' });
  });

  it('lets requests through while Redis does not answer', async () => {
    const privateRedis = await startPrivateRedis();
    const connection = new Redis(privateRedis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    connection.on('error', () => undefined);
    try {
      const sut = new RateLimiter(connection, { limit: 1, windowMs: 60_000, prefix });
      await waitFor(() => connection.status === 'ready', { timeoutMs: 5_000, description: 'the connection' });
      await privateRedis.stop();
      const decisions = [await sut.take('key-6'), await sut.take('key-6')];
      expect(decisions.map((decision) => decision.allowed)).toEqual([true, true]);
    } finally {
      connection.disconnect();
    }
  });
});
