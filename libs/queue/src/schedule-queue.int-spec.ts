import type { RedisConnection } from './redis-connection';
import { TEST_REDIS_URL, deleteRedisPrefix, uniquePrefix } from '@taskq/testing';
import { createRedisConnection } from './redis-connection';
import { ScheduleQueue, scheduledTimeOf } from './schedule-queue';

describe(ScheduleQueue.name, () => {
  const prefix = uniquePrefix('schedule-queue');
  let redis: RedisConnection;
  let sut: ScheduleQueue;

  beforeAll(() => {
    redis = createRedisConnection(TEST_REDIS_URL, 'worker');
    sut = new ScheduleQueue(redis, prefix);
  });

  afterAll(async () => {
    await sut.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('registers a job scheduler whose pending run carries only the schedule name, due at the next slot', async () => {
    const next = await sut.register({ name: 'hourly', cron: '0 * * * *', tz: 'Asia/Kolkata' });
    // Kolkata is UTC+05:30: the top of its hours is half past in UTC.
    expect(next?.getUTCMinutes()).toBe(30);
    expect(await sut.nextRun('hourly')).toEqual(next);
    const [pending] = await sut.queue.getJobs(['delayed']);
    expect(pending?.data).toEqual({ schedule: 'hourly' });
    expect(pending && scheduledTimeOf(pending)).toEqual(next);
    expect(pending?.opts).toMatchObject({ attempts: 5, removeOnComplete: expect.any(Object) });
  });

  it('syncs: adds the missing, fixes the changed, removes the unknown, and leaves the right ones alone', async () => {
    await sut.register({ name: 'right', cron: '0 0 * * *', tz: null });
    await sut.register({ name: 'changed', cron: '0 0 * * *', tz: null });
    await sut.register({ name: 'unknown', cron: '0 0 * * *', tz: null });
    const rightRun = (await sut.queue.getJobs(['delayed'])).find((job) => job.data.schedule === 'right');

    const result = await sut.sync([
      { name: 'right', cron: '0 0 * * *', tz: null },
      { name: 'changed', cron: '0 0 * * *', tz: 'Europe/Paris' },
      { name: 'missing', cron: '*/5 * * * *', tz: null },
    ]);
    expect({ registered: result.registered.sort(), removed: result.removed.sort() }).toEqual({ registered: ['changed', 'missing'], removed: ['hourly', 'unknown'] });
    const schedulers = await sut.queue.getJobSchedulers(0, -1);
    expect(Object.fromEntries(schedulers.map((s) => [s.key, [s.pattern, s.tz]]))).toEqual({
      right: ['0 0 * * *', 'UTC'],
      changed: ['0 0 * * *', 'Europe/Paris'],
      missing: ['*/5 * * * *', 'UTC'],
    });
    // The untouched scheduler kept its pending run (same job), the removed ones lost theirs.
    const delayed = await sut.queue.getJobs(['delayed']);
    expect(delayed.find((job) => job.data.schedule === 'right')?.id).toBe(rightRun?.id);
    expect(delayed.map((job) => job.data.schedule).sort()).toEqual(['changed', 'missing', 'right']);
    expect(await sut.sync([{ name: 'right', cron: '0 0 * * *', tz: null }, { name: 'changed', cron: '0 0 * * *', tz: 'Europe/Paris' }, { name: 'missing', cron: '*/5 * * * *', tz: null }])).toEqual({
      registered: [],
      removed: [],
    });
  });

  it('tells the due time of a run from its job', () => {
    expect(scheduledTimeOf({ id: 'repeat:nightly.report:1764000000000', opts: {} })).toEqual(new Date(1_764_000_000_000));
    expect(scheduledTimeOf({ id: 'whatever', opts: { prevMillis: 1_764_000_001_000 } })).toEqual(new Date(1_764_000_001_000));
    expect(() => scheduledTimeOf({ id: 'a-task-id', opts: {} })).toThrow(/not a run of a job scheduler/);
  });
});
