import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RedisConnection } from './redis-connection';
import { getTaskType, type TaskType } from '@taskq/contracts';
import { TEST_REDIS_URL, deleteRedisPrefix, parsePrometheusText, startPrivateRedis, uniquePrefix, type PrivateRedis } from '@taskq/testing';
import { TaskqMetrics } from '@taskq/observability';
import { DeadLetterMirror } from './dead-letter-queue';
import { JOB_STATES, QueueDepthCollector } from './queue-depth-collector';
import { connectRedis, createRedisConnection } from './redis-connection';
import { TaskProducer } from './task-producer';

jest.setTimeout(30_000);

interface Fixture {
  connection: RedisConnection;
  producer: TaskProducer;
  deadLetters: DeadLetterMirror;
  metrics: TaskqMetrics;
  close(): Promise<void>;
}

async function fixture(redisUrl: string, prefix: string): Promise<Fixture> {
  const connection = await connectRedis(redisUrl, 'producer', 5_000);
  const producer = new TaskProducer(connection, prefix);
  const deadLetters = new DeadLetterMirror(connection, prefix);
  const metrics = new TaskqMetrics('api', { defaultMetrics: false });
  new QueueDepthCollector(metrics, QueueDepthCollector.sourcesOf(producer, deadLetters));
  return {
    connection,
    producer,
    deadLetters,
    metrics,
    async close() {
      await producer.close();
      await deadLetters.close();
      connection.disconnect();
    },
  };
}

function enqueue(producer: TaskProducer, type: TaskType, delayMs = 0): Promise<void> {
  const definition = getTaskType(type);
  return producer.enqueue({
    data: { taskId: randomUUID(), type },
    maxAttempts: definition.attempts,
    priority: null,
    delayMs,
  });
}

describe(QueueDepthCollector.name, () => {
  describe('with Redis up', () => {
    const prefix = uniquePrefix('depth');
    let sut: Fixture;

    beforeAll(async () => {
      sut = await fixture(TEST_REDIS_URL, prefix);
    });

    afterAll(async () => {
      await sut?.close();
      await deleteRedisPrefix(prefix);
    });

    it('reports the jobs in Redis per task type and state, and the dead-letter mirror', async () => {
      await enqueue(sut.producer, 'noop');
      await enqueue(sut.producer, 'noop');
      await enqueue(sut.producer, 'email', 60_000);
      await sut.deadLetters.add([
        { taskId: randomUUID(), type: 'webhook', error: 'answered 500' },
        { taskId: randomUUID(), type: 'email', error: 'mailbox full' },
      ]);

      const scrape = parsePrometheusText(await sut.metrics.text());

      // taskq gives every job a priority, so queued jobs are "prioritized" in BullMQ.
      expect(scrape.value('taskq_queue_jobs', { type: 'noop', state: 'prioritized' })).toBe(2);
      expect(scrape.value('taskq_queue_jobs', { type: 'email', state: 'delayed' })).toBe(1);
      expect(scrape.value('taskq_queue_jobs', { type: 'email', state: 'prioritized' })).toBe(0);
      expect(scrape.value('taskq_queue_jobs', { type: 'sleep', state: 'active' })).toBe(0);
      expect(scrape.select('taskq_queue_jobs')).toHaveLength(5 * JOB_STATES.length);
      expect(scrape.value('taskq_dead_letter_jobs', { state: 'waiting' })).toBe(2);
      expect(scrape.value('taskq_queue_depth_up')).toBe(1);
      expect(scrape.families.get('taskq_queue_jobs')?.type).toBe('gauge');
    });

    it('follows the queues from one scrape to the next', async () => {
      await sut.producer.queue('noop').drain();

      const scrape = parsePrometheusText(await sut.metrics.text());

      expect(scrape.value('taskq_queue_jobs', { type: 'noop', state: 'prioritized' })).toBe(0);
      expect(scrape.value('taskq_queue_jobs', { type: 'email', state: 'delayed' })).toBe(1);
    });
  });

  describe('with Redis in trouble', () => {
    let redis: PrivateRedis;
    let sut: Fixture;
    let warnings: jest.SpyInstance;

    beforeEach(async () => {
      warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      redis = await startPrivateRedis();
      sut = await fixture(redis.url, uniquePrefix('depth-outage'));
      await enqueue(sut.producer, 'noop');
      expect(parsePrometheusText(await sut.metrics.text()).value('taskq_queue_depth_up')).toBe(1);
    });

    afterEach(async () => {
      warnings.mockRestore();
      await sut?.close();
      await redis?.stop();
    });

    it('leaves the depth series out and reports up=0 when Redis is down, without failing the scrape', async () => {
      await redis.stop();

      const started = Date.now();
      const scrape = parsePrometheusText(await sut.metrics.text());

      expect(Date.now() - started).toBeLessThan(2_000);
      expect(scrape.value('taskq_queue_depth_up')).toBe(0);
      expect(scrape.select('taskq_queue_jobs')).toEqual([]);
      expect(scrape.select('taskq_dead_letter_jobs')).toEqual([]);
      expect(scrape.value('taskq_tasks_submitted_total', { type: 'noop' })).toBe(0);
      // One warning when the reads start failing, not one per scrape.
      await sut.metrics.text();
      expect(warnings.mock.calls.map(([message]) => String(message))).toEqual([expect.stringMatching(/^queue depths unavailable \(.+\); their gauges are left out until Redis answers$/)]);
    });

    it('gives up on a Redis that does not answer after its timeout (1 s)', async () => {
      const admin = createRedisConnection(redis.url, 'worker');
      try {
        await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');

        const started = Date.now();
        const scrape = parsePrometheusText(await sut.metrics.text());

        expect(Date.now() - started).toBeLessThan(2_500);
        expect(scrape.value('taskq_queue_depth_up')).toBe(0);
        expect(scrape.select('taskq_queue_jobs')).toEqual([]);
      } finally {
        admin.disconnect();
      }
    });
  });
});

