import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { DataSource } from 'typeorm';
import { CommonConfig, WorkerConfig, loadConfig } from '@taskq/config';
import { TaskStatus } from '@taskq/contracts';
import { startTracing, type Tracing } from '@taskq/observability';
import { TaskAdmissions, TaskLifecycleStore, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer, connectRedis, type RedisConnection } from '@taskq/queue';
import { TaskAdmission, TaskRequeue, prepareTask } from '@taskq/tasks';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { createWorkerApp } from './worker-app';

jest.setTimeout(60_000);

/**
 * Traces in-process, into an in-memory exporter: the submission side (TaskAdmission and
 * TaskProducer, what POST /submit-task runs below its controller; api and worker may not import
 * each other, and the built API is traced in apps/api-e2e/src/tracing.spec.ts) and the real
 * worker app, on this file's own database and BullMQ prefix.
 */
describe('tracing across the producer and the worker', () => {
  const db = testDatabase('worker_tracing');
  const prefix = uniquePrefix('worker-tracing');
  const exporter = new InMemorySpanExporter();
  /** Requests the webhook receiver got, by path. */
  const received = new Map<string, IncomingHttpHeaders[]>();
  let tracing: Tracing;
  let dataSource: DataSource;
  let redis: RedisConnection;
  let producer: TaskProducer;
  let deadLetters: DeadLetterMirror;
  let admission: TaskAdmission;
  let requeue: TaskRequeue;
  let hook: Server;
  let hookBase: string;
  let sut: INestApplicationContext;

  beforeAll(async () => {
    tracing = startTracing(loadConfig(CommonConfig, {}), 'taskq-test', { spanProcessor: new SimpleSpanProcessor(exporter) });
    await ensureDatabase({ url: db.url });
    dataSource = await openDataSource({ url: db.url });
    await runMigrations(dataSource);

    // /fail-once-*: 500 on the first request, then 200.
    hook = createServer((request, response) => {
      const path = request.url ?? '';
      const requests = received.get(path) ?? [];
      requests.push(request.headers);
      received.set(path, requests);
      request.resume().on('end', () => response.writeHead(requests.length === 1 ? 500 : 200).end('{}'));
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;

    redis = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    producer = new TaskProducer(redis, prefix);
    deadLetters = new DeadLetterMirror(redis, prefix);
    admission = new TaskAdmission(new TaskAdmissions(dataSource), producer);
    requeue = new TaskRequeue(new TaskLifecycleStore(dataSource), producer, deadLetters);

    sut = await createWorkerApp(
      loadConfig(WorkerConfig, {
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        METRICS_PORT: '-1',
        WORKER_ID: 'tracing-worker',
        WORKER_QUEUES: 'webhook',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        LOG_LEVEL: 'error',
      }),
    );
  });

  afterAll(async () => {
    await sut?.close();
    await producer?.close();
    await deadLetters?.close();
    redis?.disconnect();
    await dataSource?.destroy();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    await tracing?.shutdown();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  async function submitWebhook(path: string, maxAttempts: number): Promise<string> {
    const preparation = await prepareTask(
      { type: 'webhook', payload: { url: `${hookBase}${path}`, method: 'POST', body: { n: 1 } }, maxAttempts, backoff: { type: 'fixed', delayMs: 50, jitter: 'none' } },
      { tenant: 'default', idempotencyKey: null, now: new Date() },
    );
    if (!preparation.ok) throw new Error(`not prepared: ${JSON.stringify(preparation.errors)}`);
    await admission.admitOne(preparation.task);
    return preparation.task.id;
  }

  const statusOf = async (id: string): Promise<string | undefined> => (await queryDatabase<{ status: string }>(db.url, 'SELECT status FROM tasks WHERE id = $1', [id]))[0]?.status;
  const spansOf = (id: string, name: string): ReadableSpan[] =>
    exporter
      .getFinishedSpans()
      .filter((span) => span.name === name && span.attributes['messaging.message.id'] === id)
      .sort((a, b) => Number(a.attributes['taskq.attempt'] ?? 0) - Number(b.attributes['taskq.attempt'] ?? 0));
  const childrenOf = (parent: ReadableSpan | undefined): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((span) => parent && span.parentSpanContext?.spanId === parent.spanContext().spanId && span.kind === SpanKind.CLIENT);
  const idOf = (span: ReadableSpan | undefined) => span?.spanContext().spanId;
  const traceOf = (span: ReadableSpan | undefined) => span?.spanContext().traceId;

  it('makes one task one trace: the send, a consumer span per attempt parented to it, the webhook call inside each; the retry links to the send', async () => {
    const id = await submitWebhook('/fail-once-a', 3);
    await waitFor(async () => (await statusOf(id)) === TaskStatus.Completed, { timeoutMs: 20_000, description: 'the task completes on its second attempt' });
    const attempts = await waitFor(() => (spansOf(id, 'process {webhook}').length === 2 ? spansOf(id, 'process {webhook}') : undefined), {
      description: 'both attempts’ spans',
    });
    const [send, ...moreSends] = spansOf(id, 'send {webhook}');
    expect(moreSends).toEqual([]);
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': '{webhook}' });

    const [first, second] = attempts;
    for (const [index, attempt] of attempts.entries()) {
      expect(attempt.kind).toBe(SpanKind.CONSUMER);
      expect(traceOf(attempt)).toBe(traceOf(send));
      expect(attempt.parentSpanContext?.spanId).toBe(idOf(send));
      expect(attempt.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.destination.name': '{webhook}', 'taskq.attempt': index + 1 });
    }
    // Measured on a job's first start only (as the queue-wait metric): BullMQ keeps no record of when a retry became due.
    expect(first?.attributes['taskq.queue_wait_ms']).toEqual(expect.any(Number));
    expect(second?.attributes['taskq.queue_wait_ms']).toBeUndefined();
    expect(first?.attributes).toMatchObject({ 'taskq.outcome': 'failed', 'error.type': 'failed' });
    expect(first?.status.code).toBe(2);
    expect(second?.attributes['taskq.outcome']).toBe('completed');
    // The retry (a later attempt, after its backoff) links back to the send.
    expect(second?.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([[traceOf(send), idOf(send)]]);

    // The handler's HTTP call nests in its attempt, and the receiver gets that call's context.
    const calls = attempts.map((attempt) => childrenOf(attempt));
    expect(calls.map((spans) => spans.map((span) => span.name))).toEqual([['POST'], ['POST']]);
    expect(calls[0]?.[0]?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 500, 'error.type': '500' });
    expect(calls[1]?.[0]?.attributes).toMatchObject({ 'http.response.status_code': 200 });
    expect(received.get('/fail-once-a')?.map((headers) => headers['traceparent'])).toEqual(
      calls.map((spans) => `00-${traceOf(send)}-${idOf(spans[0])}-01`),
    );
  });

  it('starts a dead task’s requeue in a new trace that links to the first one', async () => {
    const id = await submitWebhook('/fail-once-b', 1);
    await waitFor(async () => (await statusOf(id)) === TaskStatus.Dead, { timeoutMs: 20_000, description: 'the task is dead after its one attempt' });
    const [firstSend] = spansOf(id, 'send {webhook}');

    await expect(requeue.requeue({ ids: [id], statuses: [TaskStatus.Dead] }, 1)).resolves.toMatchObject({ kind: 'requeued' });
    await waitFor(async () => (await statusOf(id)) === TaskStatus.Completed, { timeoutMs: 20_000, description: 'the requeued task completes' });
    const sends = await waitFor(() => (spansOf(id, 'process {webhook}').length === 2 ? spansOf(id, 'send {webhook}') : undefined), {
      description: 'the requeue’s attempt span',
    });
    expect(sends).toHaveLength(2);
    const requeued = sends.find((span) => span !== firstSend);
    expect(traceOf(requeued)).not.toBe(traceOf(firstSend));
    expect(requeued?.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([[traceOf(firstSend), idOf(firstSend)]]);
    // The new attempt belongs to the requeue's trace.
    const attempts = spansOf(id, 'process {webhook}');
    expect(attempts.map((attempt) => attempt.parentSpanContext?.spanId).sort()).toEqual([idOf(firstSend), idOf(requeued)].sort());
  });
});
