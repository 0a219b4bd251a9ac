import { context, propagation, trace, SpanKind, SpanStatusCode, type Link, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured. Off, nothing is installed:
 * the helpers below return at once, and job data carries no trace context, so tracing costs
 * the hot paths one boolean test.
 */
let provider: NodeTracerProvider | undefined;

const TRACER = 'taskq';

/** W3C trace context (`traceparent`, `tracestate`) as it travels in a job. */
export type TraceCarrier = Record<string, string>;

export interface Tracing {
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Installs the tracer provider when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, exporting over OTLP/HTTP (the exporter reads
 * the standard OTEL_EXPORTER_OTLP_* variables itself). `OTEL_SERVICE_NAME` overrides the
 * service name. `spanProcessor` replaces the exporter (tests: an in-memory exporter).
 */
export function startTracing(serviceName: string, options: { env?: NodeJS.ProcessEnv; spanProcessor?: SpanProcessor } = {}): Tracing {
  const env = options.env ?? process.env;
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!options.spanProcessor && !endpoint) return { shutdown: async () => undefined };
  const spanProcessor = options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const installed = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] || serviceName }),
    spanProcessors: [spanProcessor],
  });
  installed.register();
  provider = installed;
  const tracing: Tracing = {
    async shutdown() {
      if (provider !== installed) return;
      provider = undefined;
      await installed.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  // The apps end by running out of work after their shutdown: the last batch goes out then.
  process.once('beforeExit', () => void tracing.shutdown());
  return tracing;
}

export function tracingEnabled(): boolean {
  return provider !== undefined;
}

const tracer = () => trace.getTracer(TRACER);

/** Messaging attributes (OTel semantic conventions for messaging) of one task's job. */
function messagingAttributes(operation: 'send' | 'process', queue: string, taskId: string): Record<string, string> {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': queue,
    'messaging.message.id': taskId,
  };
}

/**
 * Producer spans ("send <queue>") for jobs about to be added, one per task, children of the
 * active context. Each task's trace context is written into its job through `carry`. Undefined
 * when tracing is off.
 */
export function startSendSpans(queue: string, jobs: Array<{ taskId: string; carry(carrier: TraceCarrier): void }>): Span[] | undefined {
  if (!provider) return undefined;
  return jobs.map((job) => {
    const span = tracer().startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, attributes: messagingAttributes('send', queue, job.taskId) });
    const carrier: TraceCarrier = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    job.carry(carrier);
    return span;
  });
}

/** Ends spans, as failed when `error` is given. */
export function endSpans(spans: Span[] | undefined, error?: unknown): void {
  if (!spans) return;
  for (const span of spans) {
    if (error !== undefined) failSpan(span, error);
    span.end();
  }
}

function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

export interface AttemptSpanFacts {
  queue: string;
  taskId: string;
  attempt: number;
  /** How long the job waited in the queue before this attempt started. */
  queueWaitMs: number | undefined;
  /** The trace context its producer put in the job. */
  carrier: TraceCarrier | undefined;
}

/**
 * A consumer span ("process <queue>") for one attempt: a child of the producer's context, so
 * the task's spans in the API and in the workers form one trace; a retry also links to it.
 * Undefined when tracing is off.
 */
export function startAttemptSpan(facts: AttemptSpanFacts): Span | undefined {
  if (!provider) return undefined;
  const parent = facts.carrier ? propagation.extract(context.active(), facts.carrier) : context.active();
  const producer = trace.getSpanContext(parent);
  const links: Link[] = producer && facts.attempt > 1 ? [{ context: producer, attributes: { 'taskq.link': 'first send' } }] : [];
  return tracer().startSpan(
    `process ${facts.queue}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        ...messagingAttributes('process', facts.queue, facts.taskId),
        'taskq.attempt': facts.attempt,
        ...(facts.queueWaitMs !== undefined ? { 'taskq.queue_wait_ms': facts.queueWaitMs } : {}),
      },
    },
    parent,
  );
}

/** Runs `work` with `span` active, so the spans it starts nest inside; plain `work()` without a span. */
export function withinSpan<T>(span: Span | undefined, work: () => Promise<T>): Promise<T> {
  if (!span) return work();
  return context.with(trace.setSpan(context.active(), span), work);
}

/** Ends an attempt's span with its outcome (`error` for anything but success). */
export function endAttemptSpan(span: Span | undefined, outcome: string, error?: string): void {
  if (!span) return;
  span.setAttribute('taskq.outcome', outcome);
  if (error !== undefined) failSpan(span, new Error(error));
  span.end();
}

/** Trace context headers for an outgoing request (`traceparent`), so the receiver can join the trace; none when tracing is off. */
export function outgoingTraceHeaders(): TraceCarrier {
  const carrier: TraceCarrier = {};
  if (provider) propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * A client span around a handler's call to the outside (an HTTP request, an SMTP send),
 * nested in the attempt's span. Plain `work()` when tracing is off.
 */
export async function clientSpan<T>(name: string, attributes: Record<string, string | number>, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!provider) return work(undefined);
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
