import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import type { Worker } from 'bullmq';
import type { RedisConnection } from '@taskq/queue';
import type { DataSource } from 'typeorm';
import { WorkerConfig, loadConfig } from '@taskq/config';
import { TaskStatus, getTaskType, type BackoffPolicy } from '@taskq/contracts';
import { TaskAdmissions, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { TaskProducer, createRedisConnection } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { QueueWorkersService } from './runtime/queue-workers.service';
import { createWorkerApp } from './worker-app';

jest.setTimeout(60_000);

const TINY_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 10, maxDelayMs: 50, jitter: 'full' };

interface AttemptRow {
  number: number;
  outcome: string;
  error: string | null;
}

/**
 * SIGTERM (app.close()) must stop taking jobs and let the active ones finish
 * (ARCHITECTURE.md, "Queues and workers").
 */
describe(`${QueueWorkersService.name} shutdown`, () => {
  const db = testDatabase('worker_shutdown');
  const prefix = uniquePrefix('worker-shutdown');
  const held: ServerResponse[] = [];
  const paths: string[] = [];
  let dataSource: DataSource;
  let store: TaskAdmissions;
  let producerConnection: RedisConnection;
  let producer: TaskProducer;
  let server: Server;
  let base: string;
  let sut: INestApplicationContext;
  let closing: Promise<void> | undefined;
  let activeTaskId: string;
  let lateTaskId: string;

  beforeAll(async () => {
    await ensureDatabase({ url: db.url });
    dataSource = await openDataSource({ url: db.url });
    await runMigrations(dataSource);
    store = new TaskAdmissions(dataSource);
    // /slow is held open until the test answers it; everything else answers 200 at once.
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      request.resume();
      if (request.url === '/slow') held.push(response);
      else response.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    producerConnection = createRedisConnection(TEST_REDIS_URL, 'producer');
    producer = new TaskProducer(producerConnection, prefix);
    sut = await createWorkerApp(
      loadConfig(WorkerConfig, {
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        METRICS_PORT: '-1',
        WORKER_QUEUES: 'webhook',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        LOG_LEVEL: 'fatal',
        SHUTDOWN_TIMEOUT_MS: '20000',
      }),
    );
  });

  afterAll(async () => {
    for (const response of held.splice(0)) response.writeHead(200).end('released');
    await (closing ?? sut?.close());
    await producer?.close();
    producerConnection?.disconnect();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db.drop();
    await deleteRedisPrefix(prefix);
  });

  async function submitWebhook(url: string): Promise<string> {
    const definition = getTaskType('webhook');
    const taskId = randomUUID();
    const payload = { url };
    await store.createTask({
      id: taskId, type: 'webhook', status: TaskStatus.Queued, payload, priority: null, runAt: null, maxAttempts: definition.attempts,
      backoff: TINY_BACKOFF, timeoutMs: definition.timeoutMs, idempotencyKey: null, requestHash: null, tenant: 'default', createdAt: new Date(),
    });
    await producer.enqueue({
      data: { taskId, type: 'webhook' },
      maxAttempts: definition.attempts,
      priority: null,
      delayMs: 0,
    });
    return taskId;
  }

  const statusOf = async (taskId: string): Promise<string | undefined> =>
    ((await dataSource.query('SELECT status FROM tasks WHERE id = $1', [taskId])) as Array<{ status: string }>)[0]?.status;

  const attemptsOf = async (taskId: string): Promise<AttemptRow[]> =>
    (await dataSource.query('SELECT number, outcome, error FROM task_attempts WHERE task_id = $1 ORDER BY number', [taskId])) as AttemptRow[];

  it('lets the active job finish while closing', async () => {
    activeTaskId = await submitWebhook(`${base}/slow`);
    await waitFor(() => held.length === 1, { description: 'the slow webhook request is in flight' });

    closing = sut.close();
    // The close sequence starts within microtasks; one macrotask later it is under way.
    await new Promise((resolve) => setImmediate(resolve));
    lateTaskId = await submitWebhook(`${base}/late`);
    // Until the workers have stopped taking jobs, give the late job every chance to be taken.
    const workers = (sut.get(QueueWorkersService) as unknown as { workers: Worker[] }).workers;
    await waitFor(async () => workers.every((worker) => worker.closing !== undefined) || (await producer.queue('webhook').getJobState(lateTaskId)) !== 'waiting', {
      timeoutMs: 20_000,
      description: 'the workers stop taking jobs, or the late job is taken',
    });
    held.splice(0).forEach((response) => response.writeHead(200).end('released'));
    await closing;

    expect(await statusOf(activeTaskId)).toBe('completed');
  });

  // Handlers close their HTTP/SMTP clients at shutdown: the workers must have stopped taking
  // jobs before that, or late jobs would fail on a closed client and spend their attempts.
  it('takes no new job once shutdown has begun (the late task stays queued for another worker)', async () => {
    expect(lateTaskId).toBeDefined();
    expect(await attemptsOf(lateTaskId)).toEqual([]);
    expect(await statusOf(lateTaskId)).toBe('queued');
    expect(paths).not.toContain('/late');
  });
});
