import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  clientSpan,
  endAttemptSpan,
  endSpans,
  outgoingTraceHeaders,
  startAttemptSpan,
  startSendSpans,
  startTracing,
  tracingEnabled,
  withinSpan,
  type TraceCarrier,
  type Tracing,
} from './tracing';

/** A task's journey through the helpers the API's producer and the worker's runner call, into an in-memory exporter. */
function runTask(attempts: number): TraceCarrier {
  const job: { trace?: TraceCarrier } = {};
  const sends = startSendSpans('{webhook}', [{ taskId: 'task-1', carry: (carrier) => (job.trace = carrier) }]);
  endSpans(sends);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const span = startAttemptSpan({ queue: '{webhook}', taskId: 'task-1', attempt, queueWaitMs: 12, carrier: job.trace });
    void withinSpan(span, () => clientSpan('POST', { 'http.request.method': 'POST' }, async () => undefined));
    endAttemptSpan(span, attempt < attempts ? 'failed' : 'completed', attempt < attempts ? 'answered 500' : undefined);
  }
  return job.trace ?? {};
}

describe('tracing', () => {
  describe('off (no OTLP endpoint)', () => {
    it('installs nothing and puts no trace context in jobs', async () => {
      const tracing = startTracing('taskq-test', { env: {} });
      expect(tracingEnabled()).toBe(false);
      const carried: TraceCarrier[] = [];
      expect(startSendSpans('{noop}', [{ taskId: 't', carry: (carrier) => carried.push(carrier) }])).toBeUndefined();
      expect(carried).toEqual([]);
      expect(startAttemptSpan({ queue: '{noop}', taskId: 't', attempt: 1, queueWaitMs: 0, carrier: undefined })).toBeUndefined();
      expect(outgoingTraceHeaders()).toEqual({});
      await tracing.shutdown();
    });
  });

  describe('on', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;

    beforeAll(() => {
      tracing = startTracing('taskq-test', { env: {}, spanProcessor: new SimpleSpanProcessor(exporter) });
    });
    afterEach(() => exporter.reset());
    afterAll(() => tracing.shutdown());

    const byName = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);
    const idOf = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;

    it('makes the send, every attempt and the handler’s call one trace', async () => {
      const carrier = runTask(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(carrier['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const [send] = byName('send {webhook}');
      const attempts = byName('process {webhook}');
      const calls = byName('POST');
      expect(send?.kind).toBe(SpanKind.PRODUCER);
      expect(send?.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': '{webhook}', 'messaging.message.id': 'task-1' });
      expect(attempts).toHaveLength(2);
      expect(calls).toHaveLength(2);

      const traceIds = new Set(exporter.getFinishedSpans().map((span) => span.spanContext().traceId));
      expect(traceIds.size).toBe(1);
      for (const attempt of attempts) {
        expect(attempt.kind).toBe(SpanKind.CONSUMER);
        expect(attempt.parentSpanContext?.spanId).toBe(idOf(send));
        expect(attempt.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'taskq.queue_wait_ms': 12 });
      }
      // Each handler call nests in its own attempt.
      expect(calls.map((call) => call.parentSpanContext?.spanId).sort()).toEqual(attempts.map(idOf).sort());
    });

    it('links a retry to the first send, and marks the failed attempt', async () => {
      runTask(2);
      await new Promise((resolve) => setImmediate(resolve));
      const [send] = byName('send {webhook}');
      const [first, second] = byName('process {webhook}').sort((a, b) => Number(a.attributes['taskq.attempt']) - Number(b.attributes['taskq.attempt']));
      expect(first?.links).toEqual([]);
      expect(second?.links.map((link) => link.context.spanId)).toEqual([idOf(send)]);
      expect(first?.status).toMatchObject({ code: 2, message: 'answered 500' });
      expect(first?.attributes['taskq.outcome']).toBe('failed');
      expect(second?.attributes['taskq.outcome']).toBe('completed');
    });
  });
});
