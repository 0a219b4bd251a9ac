import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import type { RedisConnection } from '@taskq/queue';
import type { DataSource } from 'typeorm';
import { WorkerConfig, loadConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, TaskStatus, getTaskType, type BackoffPolicy, type TaskType } from '@taskq/contracts';
import { TaskAdmissions, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { TaskProducer, createRedisConnection, queueNameFor } from '@taskq/queue';
import { TEST_POSTGRES_URL, TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { createWorkerApp } from './worker-app';

jest.setTimeout(60_000);

interface TaskRow {
  status: string;
  result: unknown;
  last_error: string | null;
  attempts_made: number;
  started_at: Date | null;
  finished_at: Date | null;
}

interface AttemptRow {
  number: number;
  worker_id: string;
  outcome: string;
  error: string | null;
  duration_ms: number | null;
  started_at: Date;
  finished_at: Date | null;
}

/** What PostgreSQL said at the moment BullMQ announced a job finished. */
interface FinishObservation {
  jobId: string;
  event: 'completed' | 'failed';
  jobState: string;
  taskStatus: string | undefined;
}

const openTcpSockets = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;

const TINY_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 10, maxDelayMs: 50, jitter: 'full' };

describe(createWorkerApp.name, () => {
  const db = testDatabase('worker_app');
  const prefix = uniquePrefix('worker-app');
  const workerId = `worker-int-${randomUUID().slice(0, 8)}`;
  const observations: FinishObservation[] = [];
  const webhookRequests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const queueEvents: QueueEvents[] = [];
  const eventConnections: RedisConnection[] = [];
  let dataSource: DataSource;
  let store: TaskAdmissions;
  let producerConnection: RedisConnection;
  let producer: TaskProducer;
  let server: Server;
  let webhookBase: string;
  let sut: INestApplicationContext;
  let closed = false;
  /** Open TCP sockets of this process before the test's pool and the worker existed. */
  let baselineSockets = 0;

  beforeAll(async () => {
    await ensureDatabase({ url: db.url });
    const setup = await openDataSource({ url: db.url });
    await runMigrations(setup);
    // Test-only audit of every status change, so transient states (retrying) can be asserted.
    await setup.query(`CREATE TABLE test_status_log (seq bigserial PRIMARY KEY, task_id uuid NOT NULL, status text NOT NULL)`);
    await setup.query(`
      CREATE FUNCTION test_log_status() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO test_status_log (task_id, status) VALUES (NEW.id, NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
    await setup.query(`CREATE TRIGGER test_log_status AFTER INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION test_log_status()`);
    // Fault injection: completing a noop whose note is 'slow-commit' takes 300 ms to commit, so a
    // worker that acknowledged the job before its PostgreSQL write had finished would be caught.
    await setup.query(`CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$`);
    await setup.query(`
      CREATE TRIGGER test_slow_commit BEFORE UPDATE ON tasks FOR EACH ROW
      WHEN (NEW.status = 'completed' AND NEW.payload->>'note' = 'slow-commit') EXECUTE FUNCTION test_slow_commit()`);
    await setup.destroy();

    // Fails every path /flaky-N twice with 500, then answers 200.
    const failuresLeft = new Map<string, number>();
    server = createServer((request, response) => {
      const path = request.url ?? '';
      webhookRequests.push({ path, headers: request.headers });
      request.resume();
      request.on('end', () => {
        const left = failuresLeft.get(path) ?? 2;
        failuresLeft.set(path, left - 1);
        if (left > 0) response.writeHead(500).end(`failing, ${left} to go`);
        else response.writeHead(200).end('finally');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    producerConnection = createRedisConnection(TEST_REDIS_URL, 'producer');
    producer = new TaskProducer(producerConnection, prefix);
    await waitFor(() => producerConnection.status === 'ready', { description: 'the producer connection is ready' });

    for (const type of ['noop', 'sleep', 'webhook'] as const) {
      const connection = createRedisConnection(TEST_REDIS_URL, 'worker');
      eventConnections.push(connection);
      const events = new QueueEvents(queueNameFor(type), { connection, prefix, lastEventId: '0-0' });
      const observe = (event: FinishObservation['event']) => async ({ jobId }: { jobId: string }) => {
        try {
          // Ask PostgreSQL first: this is the moment BullMQ reports the job finished.
          const rows = (await dataSource.query('SELECT status FROM tasks WHERE id = $1', [jobId])) as Array<{ status: string }>;
          const jobState = await producer.queue(type).getJobState(jobId);
          observations.push({ jobId, event, jobState, taskStatus: rows[0]?.status });
        } catch (error) {
          observations.push({ jobId, event, jobState: 'unknown', taskStatus: `lookup failed: ${String(error)}` });
        }
      };
      events.on('completed', observe('completed'));
      events.on('failed', observe('failed'));
      await events.waitUntilReady();
      queueEvents.push(events);
    }

    baselineSockets = openTcpSockets();
    dataSource = await openDataSource({ url: db.url });
    store = new TaskAdmissions(dataSource);

    const config = loadConfig(WorkerConfig, {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: '-1',
      WORKER_ID: workerId,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'error',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    sut = await createWorkerApp(config);
  });

  afterAll(async () => {
    if (!closed) await sut?.close();
    await Promise.all(queueEvents.map((events) => events.close()));
    for (const connection of eventConnections) connection.disconnect();
    await producer?.close();
    producerConnection?.disconnect();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db.drop();
    await deleteRedisPrefix(prefix);
  });

  /** Submits a task the way the API does: the row first, then the job (jobId = task id). */
  async function submit(type: TaskType, payload: unknown, job: { timeoutMs?: number; backoff?: BackoffPolicy } = {}): Promise<string> {
    const definition = getTaskType(type);
    const taskId = randomUUID();
    const backoff = job.backoff ?? definition.backoff;
    const timeoutMs = job.timeoutMs ?? definition.timeoutMs;
    await store.createTask({
      id: taskId, type, status: TaskStatus.Queued, payload, priority: null, runAt: null, maxAttempts: definition.attempts,
      backoff, timeoutMs, idempotencyKey: null, requestHash: null, tenant: 'default', createdAt: new Date(),
    });
    await producer.enqueue({
      data: { taskId, type },
      maxAttempts: definition.attempts,
      priority: null,
      delayMs: 0,
    });
    return taskId;
  }

  const taskRow = async (taskId: string): Promise<TaskRow | undefined> =>
    ((await dataSource.query('SELECT status, result, last_error, attempts_made, started_at, finished_at FROM tasks WHERE id = $1', [taskId])) as TaskRow[])[0];

  const attemptRows = async (taskId: string): Promise<AttemptRow[]> =>
    (await dataSource.query(
      'SELECT number, worker_id, outcome, error, duration_ms, started_at, finished_at FROM task_attempts WHERE task_id = $1 ORDER BY number',
      [taskId],
    )) as AttemptRow[];

  const statusHistory = async (taskId: string): Promise<string[]> =>
    ((await dataSource.query('SELECT status FROM test_status_log WHERE task_id = $1 ORDER BY seq', [taskId])) as Array<{ status: string }>).map((row) => row.status);

  const finalRow = (taskId: string, status: TaskStatus): Promise<TaskRow> =>
    waitFor(
      async () => {
        const row = await taskRow(taskId);
        return row?.status === status && row;
      },
      { timeoutMs: 20_000, description: `task ${taskId} is ${status}` },
    );

  const observationOf = (taskId: string): Promise<FinishObservation> =>
    waitFor(() => observations.find((observation) => observation.jobId === taskId), { timeoutMs: 20_000, description: `BullMQ reports job ${taskId} finished` });

  it('registers one BullMQ worker on every task-type queue', async () => {
    for (const type of TASK_TYPE_NAMES) {
      await waitFor(async () => (await producer.queue(type).getWorkersCount()) === 1, { description: `a worker serves ${type}` });
    }
  });

  it('runs a noop task to completed and records one completed attempt by this worker', async () => {
    const taskId = await submit('noop', { note: 'hello' });

    const row = await finalRow(taskId, TaskStatus.Completed);

    expect(row).toMatchObject({ status: 'completed', result: { ok: true, note: 'hello' }, last_error: null, attempts_made: 1 });
    expect(row.started_at).toBeInstanceOf(Date);
    expect(row.finished_at).toBeInstanceOf(Date);
    const attempts = await attemptRows(taskId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ number: 1, worker_id: workerId, outcome: 'completed', error: null });
    expect(attempts[0]?.duration_ms).toEqual(expect.any(Number));
    expect(attempts[0]?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(attempts[0]?.finished_at?.getTime()).toBeGreaterThanOrEqual(attempts[0]?.started_at.getTime() ?? Infinity);
    expect(await statusHistory(taskId)).toEqual(['queued', 'active', 'completed']);
  });

  it('has committed the task as completed in PostgreSQL by the time BullMQ reports the job completed', async () => {
    const taskId = await submit('noop', { note: 'slow-commit' });

    const observation = await observationOf(taskId);

    expect(observation).toEqual({ jobId: taskId, event: 'completed', jobState: 'completed', taskStatus: 'completed' });
  });

  it('records an attempt that outlives its job deadline as timed_out, and the task dead once its attempts are spent', async () => {
    const taskId = await submit('sleep', { ms: 10_000 }, { timeoutMs: 150, backoff: TINY_BACKOFF });

    const row = await finalRow(taskId, TaskStatus.Dead);

    const attempts = await attemptRows(taskId);
    expect(attempts).toHaveLength(getTaskType('sleep').attempts);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ worker_id: workerId, outcome: 'timed_out', error: 'timed out after 150 ms' });
      expect(attempt.duration_ms).toBeGreaterThanOrEqual(140);
      expect(attempt.duration_ms).toBeLessThan(5_000);
    }
    expect(row).toMatchObject({ last_error: 'timed out after 150 ms', result: null, attempts_made: 3 });
    await expect(observationOf(taskId)).resolves.toEqual({ jobId: taskId, event: 'failed', jobState: 'failed', taskStatus: 'dead' });
  });

  it('retries a webhook that fails twice with 500 and completes it on the third attempt', async () => {
    const path = `/flaky-${randomUUID()}`;
    const taskId = await submit('webhook', { url: `${webhookBase}${path}` }, { backoff: TINY_BACKOFF });

    const row = await finalRow(taskId, TaskStatus.Completed);

    expect(row).toMatchObject({ attempts_made: 3, result: { status: 200, bodyExcerpt: 'finally', durationMs: expect.any(Number) } });
    expect(row.last_error).toMatch(/answered 500: failing, 1 to go/);
    const attempts = await attemptRows(taskId);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(['failed', 'failed', 'completed']);
    expect(attempts.map((attempt) => attempt.error)).toEqual([
      `POST ${webhookBase}${path} answered 500: failing, 2 to go`,
      `POST ${webhookBase}${path} answered 500: failing, 1 to go`,
      null,
    ]);
    expect(await statusHistory(taskId)).toEqual(['queued', 'active', 'retrying', 'active', 'retrying', 'active', 'completed']);
    const requests = webhookRequests.filter((request) => request.path === path);
    expect(requests).toHaveLength(3);
    expect(requests.every((request) => request.headers['x-taskq-task-id'] === taskId && request.headers['idempotency-key'] === taskId)).toBe(true);
    await expect(observationOf(taskId)).resolves.toEqual({ jobId: taskId, event: 'completed', jobState: 'completed', taskStatus: 'completed' });
  });

  it('sends a task whose payload is invalid straight to dead, after one attempt', async () => {
    const taskId = await submit('noop', { note: 42, extra: true });

    const row = await finalRow(taskId, TaskStatus.Dead);

    expect(row.last_error).toContain('invalid payload');
    expect(row.last_error).toMatch(/payload\.note: .*string/);
    expect(row.last_error).toMatch(/payload\.extra/);
    const attempts = await attemptRows(taskId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome: 'failed', worker_id: workerId });
    expect(attempts[0]?.error).toBe(row.last_error);
    await expect(observationOf(taskId)).resolves.toEqual({ jobId: taskId, event: 'failed', jobState: 'failed', taskStatus: 'dead' });
    const job = await producer.queue('noop').getJob(taskId);
    expect(job?.attemptsMade).toBe(1);
  });

  it('closes cleanly: no error, no worker left in Redis, no socket or connection left open', async () => {
    expect(openTcpSockets()).toBeGreaterThan(baselineSockets);
    // Logs are JSON lines on stdout (pino); anything else would land on stderr.
    const output = [jest.spyOn(process.stdout, 'write'), jest.spyOn(process.stderr, 'write')];
    const started = Date.now();

    try {
      await sut.close();
      closed = true;
    } finally {
      for (const spy of output) spy.mockRestore();
    }

    expect(Date.now() - started).toBeLessThan(5_000);
    // Nest logs (and swallows) errors thrown by shutdown hooks: there must be none.
    expect(output.flatMap((spy) => spy.mock.calls.map(([chunk]) => String(chunk))).filter((line) => /error/i.test(line))).toEqual([]);
    for (const type of TASK_TYPE_NAMES) {
      await expect(producer.queue(type).getWorkersCount()).resolves.toBe(0);
    }
    // With the test's own pool closed too, the process is back to the sockets it had before.
    await dataSource.destroy();
    await waitFor(() => openTcpSockets() === baselineSockets, { description: `open TCP sockets back to ${baselineSockets}` });
    await waitFor(
      async () => (await queryDatabase<{ pid: number }>(TEST_POSTGRES_URL, 'SELECT pid FROM pg_stat_activity WHERE datname = $1', [db.name])).length === 0,
      { description: 'no connection to the test database remains' },
    );
  });
});
