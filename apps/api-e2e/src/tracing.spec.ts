import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_REDIS_URL, apiFetch, deleteRedisPrefix, freePort, startBuiltApp, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';

/**
 * The built api and worker export their spans over OTLP/HTTP (JSON) to a collector inside
 * this test: one webhook task that fails once and then succeeds is one trace across both
 * processes, and its webhook receiver gets the trace context. The batch delay is longer than
 * the test, so the spans arrive only through the flush of a graceful shutdown (SIGTERM).
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}
interface CollectedSpan extends OtlpSpan {
  service: string;
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const db = testDatabase('e2e_tracing');
const prefix = uniquePrefix('e2e-tracing');
const spans: CollectedSpan[] = [];
const hookHeaders: IncomingHttpHeaders[] = [];
let collector: Server;
let hook: Server;
let api: AppProcess;
let worker: AppProcess;
let baseUrl: string;
let hookUrl: string;

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  collector = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        for (const resource of (JSON.parse(body) as OtlpExport).resourceSpans) {
          const service = resource.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push({ ...span, service });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // Fails the first call, then answers 200.
  hook = createServer((request, response) => {
    hookHeaders.push(request.headers);
    request.resume().on('end', () => response.writeHead(hookHeaders.length === 1 ? 500 : 200).end('{}'));
  });
  const otlp = await listen(collector);
  hookUrl = `${await listen(hook)}/hook`;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Nothing is exported on the timer: only the shutdown's flush sends the spans.
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startBuiltApp('api', { ...env, HOST: '127.0.0.1', PORT: String(port) });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, WORKER_ID: 'tracing-worker', WEBHOOK_ALLOW_PRIVATE: 'true' });
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await new Promise<void>((resolve) => collector?.close(() => resolve()));
  await new Promise<void>((resolve) => hook?.close(() => resolve()));
  await deleteRedisPrefix(prefix);
  await db.drop();
});

const attribute = (span: OtlpSpan | undefined, key: string): unknown => {
  const value = span?.attributes?.find((candidate) => candidate.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

it('one task is one trace across the api and the worker: send, each attempt, each webhook call', async () => {
  const response = await apiFetch(`${baseUrl}/submit-task`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'webhook',
      payload: { url: hookUrl, method: 'POST', body: { n: 1 } },
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 100, jitter: 'none' },
    }),
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };

  await waitFor(
    async () => {
      const task = await apiFetch(`${baseUrl}/tasks/${id}`);
      return ((await task.json()) as { status: string }).status === 'completed';
    },
    { timeoutMs: 30_000, description: 'the task completes on its second attempt' },
  );
  expect(spans).toEqual([]);
  // SIGTERM: each process flushes its spans as the last step of its graceful shutdown.
  await expect(Promise.all([api.stop(), worker.stop()])).resolves.toEqual([0, 0]);

  const taskSpans = await waitFor(
    () => {
      const send = spans.find((span) => span.name === 'send {webhook}' && attribute(span, 'messaging.message.id') === id);
      const mine = send ? spans.filter((span) => span.traceId === send.traceId) : [];
      return mine.filter((span) => span.name === 'POST').length === 2 && mine.filter((span) => span.name === 'process {webhook}').length === 2 ? mine : undefined;
    },
    { timeoutMs: 30_000, description: 'the spans of the task in the collector' },
  );

  const send = taskSpans.find((span) => span.name === 'send {webhook}');
  const attempts = taskSpans.filter((span) => span.name === 'process {webhook}').sort((a, b) => Number(attribute(a, 'taskq.attempt')) - Number(attribute(b, 'taskq.attempt')));
  const calls = taskSpans.filter((span) => span.name === 'POST');
  expect(send?.service).toBe('taskq-api');
  expect(attempts.map((span) => span.service)).toEqual(['taskq-worker', 'taskq-worker']);
  expect(attempts.map((span) => span.parentSpanId)).toEqual([send?.spanId, send?.spanId]);
  expect(attempts.map((span) => attribute(span, 'taskq.outcome'))).toEqual(['failed', 'completed']);
  expect(Number(attribute(attempts[0], 'taskq.queue_wait_ms'))).toBeGreaterThanOrEqual(0);
  // Every attempt links to the send, so the retry links back to it.
  expect(attempts.map((span) => span.links?.map((link) => link.spanId))).toEqual([[send?.spanId], [send?.spanId]]);
  // Each webhook call nests in its attempt, and the receiver got the trace context.
  expect(calls.map((span) => span.parentSpanId).sort()).toEqual(attempts.map((span) => span.spanId).sort());
  expect(hookHeaders.map((headers) => String(headers['traceparent']).split('-')[1])).toEqual([send?.traceId, send?.traceId]);
});
