import type { RedisConnection } from './redis-connection';
import { TaskStatus, type TaskEvent } from '@taskq/contracts';
import { TEST_REDIS_URL, uniquePrefix, waitFor } from '@taskq/testing';
import { connectRedis, createRedisConnection } from './redis-connection';
import { TaskEventPublisher, TaskEventSubscriber, taskEventChannel } from './task-event-channel';

describe(TaskEventSubscriber.name, () => {
  const prefix = uniquePrefix('task-events');
  let redis: RedisConnection;
  let publisher: TaskEventPublisher;
  let subscriber: TaskEventSubscriber;
  const received: TaskEvent[] = [];

  const event = (taskId: string): TaskEvent => ({ kind: 'status', taskId, type: 'noop', tenant: 'default', status: TaskStatus.Queued, attempt: null, error: null, at: new Date().toISOString() });
  const subscribers = async (): Promise<number> => {
    const [, count] = (await redis.pubsub('NUMSUB', taskEventChannel(prefix))) as [string, number];
    return Number(count);
  };

  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    publisher = new TaskEventPublisher(redis, prefix);
    subscriber = new TaskEventSubscriber(createRedisConnection(TEST_REDIS_URL, 'worker'), prefix);
    subscriber.onEvents((events) => received.push(...events));
  });

  afterAll(async () => {
    await subscriber.close();
    redis.disconnect();
  });

  it('is not subscribed until someone listens, and hears what is published once listen() resolves', async () => {
    expect(await subscribers()).toBe(0);
    publisher.publish([event('before')]);

    await subscriber.listen();
    expect(await subscribers()).toBe(1);
    publisher.publish([event('a'), event('b')]);

    await waitFor(() => received.length >= 2, { timeoutMs: 5_000 });
    expect(received.map((e) => e.taskId)).toEqual(['a', 'b']);
  });

  it('stops hearing after stopListening(), and hears again after listen()', async () => {
    subscriber.stopListening();
    await waitFor(async () => (await subscribers()) === 0, { timeoutMs: 5_000 });
    publisher.publish([event('unheard')]);

    await subscriber.listen();
    publisher.publish([event('c')]);

    await waitFor(() => received.some((e) => e.taskId === 'c'), { timeoutMs: 5_000 });
    expect(received.map((e) => e.taskId)).toEqual(['a', 'b', 'c']);
  });
});
