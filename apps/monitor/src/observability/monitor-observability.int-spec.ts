import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';
import { MonitorConfig, loadConfig } from '@taskq/config';
import { TaskStatus, getTaskType } from '@taskq/contracts';
import { TaskAdmissions } from '@taskq/persistence';
import { TaskProducer, connectRedis } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, parsePrometheusText, testDatabase, uniquePrefix, type PrometheusScrape } from '@taskq/testing';
import { createMonitorApp } from '../monitor-app';
import { MonitorMetricsListener } from './monitor-metrics-listener';

jest.setTimeout(30_000);

describe('monitor health and metrics listener', () => {
  const db = testDatabase('monitor_metrics');
  const prefix = uniquePrefix('monitor-metrics');
  let sut: INestApplicationContext;
  let closed = false;
  let base: string;
  let connection: RedisConnection;
  let producer: TaskProducer;

  beforeAll(async () => {
    sut = await createMonitorApp(
      loadConfig(MonitorConfig, { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, METRICS_PORT: '0', LOG_LEVEL: 'fatal' }),
    );
    base = `http://127.0.0.1:${sut.get(MonitorMetricsListener).port}`;
    connection = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    producer = new TaskProducer(connection, prefix);
  });

  afterAll(async () => {
    if (!closed) await sut?.close();
    await producer?.close();
    connection?.disconnect();
    await db.drop();
    await deleteRedisPrefix(prefix);
  });

  async function scrape(): Promise<PrometheusScrape> {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  }

  it('answers /health', async () => {
    const response = await fetch(`${base}/health`);
    expect({ status: response.status, body: (await response.json()) as unknown }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('exports the depth of the queues in Redis', async () => {
    await producer.enqueue({
      data: { taskId: randomUUID(), type: 'email' },
      maxAttempts: 1,
      priority: 3,
      delayMs: 0,
    });

    const metrics = await scrape();

    expect(metrics.value('taskq_queue_jobs', { type: 'email', state: 'prioritized' })).toBe(1);
    expect(metrics.value('taskq_queue_jobs', { type: 'webhook', state: 'prioritized' })).toBe(0);
    expect(metrics.value('taskq_dead_letter_jobs', { state: 'waiting' })).toBe(0);
    expect(metrics.value('taskq_queue_depth_up')).toBe(1);
    expect(metrics.families.has('process_resident_memory_bytes')).toBe(true);
  });

  it("observes the batches of the monitor's TaskAdmissions", async () => {
    const store = sut.get(TaskAdmissions);
    const definition = getTaskType('noop');

    await store.createTask({
      id: randomUUID(), type: 'noop', status: TaskStatus.Queued, payload: {}, priority: null, runAt: null, maxAttempts: 1,
      backoff: definition.backoff, timeoutMs: definition.timeoutMs, idempotencyKey: null, requestHash: null, tenant: 'default', createdAt: new Date(),
    });

    expect((await scrape()).value('taskq_postgres_write_batch_size_count', { kind: 'insert' })).toBe(1);
  });

  it('stops listening when the monitor closes', async () => {
    await sut.close();
    closed = true;

    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
