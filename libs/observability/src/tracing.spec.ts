import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CommonConfig, loadConfig } from '@taskq/config';
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
  type SendingJob,
  type TraceCarrier,
  type Tracing,
} from './tracing';

/** A task's journey through the helpers the producer and the worker's runner call, into an in-memory exporter. */
async function runTask(attempts: number, follows?: TraceCarrier): Promise<TraceCarrier> {
  const job: SendingJob = { data: { taskId: 'task-1' }, follows };
  endSpans(startSendSpans('{webhook}', [job]));
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const span = startAttemptSpan({ queue: '{webhook}', taskId: 'task-1', attempt, queueWaitMs: 12, carrier: job.data.trace });
    if (!span) throw new Error('tracing is off');
    await withinSpan(span, () => clientSpan('POST', () => ({ 'http.request.method': 'POST' }), async () => undefined));
    endAttemptSpan(span, attempt < attempts ? 'failed' : 'completed', attempt < attempts ? 'answered 500' : undefined);
  }
  return job.data.trace ?? {};
}

describe('tracing', () => {
  describe('configuration', () => {
    it('reads the OTLP variables through the validated config, and refuses an endpoint that is not an http(s) URL', () => {
      const config = loadConfig(CommonConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'edge-api', OTEL_SDK_DISABLED: 'true' });
      expect(config).toMatchObject({ otlpEndpoint: 'http://127.0.0.1:4318', otelServiceName: 'edge-api', otelSdkDisabled: true });
      expect(loadConfig(CommonConfig, {})).toMatchObject({ otlpEndpoint: undefined, otlpTracesEndpoint: undefined, otelSdkDisabled: false });
      expect(() => loadConfig(CommonConfig, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318": must be an http/);
    });
  });

  describe('off', () => {
    it.each([
      ['no endpoint', {}],
      ['OTEL_SDK_DISABLED', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }],
    ])('with %s installs nothing and puts no trace context in jobs', async (_case, env) => {
      const tracing = startTracing(loadConfig(CommonConfig, env), 'taskq-test');
      expect(tracingEnabled()).toBe(false);
      // The API's no-op tracer is still the global one.
      expect(trace.getTracer('taskq').startSpan('x').isRecording()).toBe(false);
      const job: SendingJob = { data: { taskId: 't' } };
      expect(startSendSpans('{noop}', [job])).toBeUndefined();
      expect(job.data.trace).toBeUndefined();
      expect(startAttemptSpan({ queue: '{noop}', taskId: 't', attempt: 1, queueWaitMs: 0, carrier: undefined })).toBeUndefined();
      expect(outgoingTraceHeaders()).toEqual({});
      const attributes = jest.fn(() => ({}));
      await clientSpan('GET', attributes, async (span) => expect(span).toBeUndefined());
      expect(attributes).not.toHaveBeenCalled();
      await tracing.shutdown();
    });
  });

  describe('on', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;

    beforeAll(() => {
      tracing = startTracing(loadConfig(CommonConfig, { OTEL_SERVICE_NAME: 'edge-worker' }), 'taskq-test', { spanProcessor: new SimpleSpanProcessor(exporter) });
    });
    afterEach(() => exporter.reset());
    afterAll(() => tracing.shutdown());

    const byName = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);
    const idOf = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;

    it('makes the send, every attempt and the handler’s call one trace', async () => {
      const carrier = await runTask(2);
      expect(carrier['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const [send] = byName('send {webhook}');
      const attempts = byName('process {webhook}');
      const calls = byName('POST');
      expect(send?.kind).toBe(SpanKind.PRODUCER);
      expect(send?.resource.attributes['service.name']).toBe('edge-worker');
      expect(send?.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': '{webhook}', 'messaging.message.id': 'task-1' });
      expect(attempts).toHaveLength(2);
      expect(calls).toHaveLength(2);

      const traceIds = new Set(exporter.getFinishedSpans().map((span) => span.spanContext().traceId));
      expect(traceIds.size).toBe(1);
      for (const attempt of attempts) {
        expect(attempt.kind).toBe(SpanKind.CONSUMER);
        expect(attempt.parentSpanContext?.spanId).toBe(idOf(send));
        expect(attempt.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.message.id': 'task-1', 'taskq.queue_wait_ms': 12 });
      }
      // Each handler call nests in its own attempt.
      expect(calls.map((call) => call.parentSpanContext?.spanId).sort()).toEqual(attempts.map(idOf).sort());
    });

    it('links every attempt (so a retry) to the send, and marks the failed attempt', async () => {
      await runTask(2);
      const [send] = byName('send {webhook}');
      const [first, second] = byName('process {webhook}').sort((a, b) => Number(a.attributes['taskq.attempt']) - Number(b.attributes['taskq.attempt']));
      expect(first?.links.map((link) => link.context.spanId)).toEqual([idOf(send)]);
      expect(second?.links.map((link) => link.context.spanId)).toEqual([idOf(send)]);
      expect(second?.links[0]?.context.traceId).toBe(send?.spanContext().traceId);
      expect(first?.status).toMatchObject({ code: 2, message: 'answered 500' });
      expect(first?.attributes).toMatchObject({ 'taskq.outcome': 'failed', 'error.type': 'failed' });
      expect(second?.attributes['taskq.outcome']).toBe('completed');
    });

    it('starts a requeue’s send in a new trace, linked to the job it replaces', async () => {
      const first = await runTask(1);
      exporter.reset();
      await runTask(1, first);
      const [send] = byName('send {webhook}');
      expect(send?.spanContext().traceId).not.toBe(first['traceparent']?.split('-')[1]);
      expect(send?.links.map((link) => `${link.context.traceId}-${link.context.spanId}`)).toEqual([first['traceparent']?.split('-').slice(1, 3).join('-')]);
    });
  });
});
