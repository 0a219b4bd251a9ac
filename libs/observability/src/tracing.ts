import { context, propagation, trace, SpanKind, SpanStatusCode, type Attributes, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { CommonConfig } from '@taskq/config';

/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured. Off, nothing is installed:
 * the callers test {@link tracingEnabled} before they build anything for a span, the API's
 * no-op tracer stays in place, and job data carries no trace context.
 */
let provider: NodeTracerProvider | undefined;

const TRACER = 'taskq';

/** W3C trace context (`traceparent`, `tracestate`) as it travels in a job. */
export type TraceCarrier = Record<string, string>;

/** The settings tracing reads, from the app's validated configuration. */
export type TracingConfig = Pick<CommonConfig, 'otlpEndpoint' | 'otlpTracesEndpoint' | 'otelServiceName' | 'otelSdkDisabled'>;

export interface Tracing {
  /** Exports what is still buffered, then uninstalls the provider. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { shutdown: async () => undefined };

/**
 * Installs the tracer provider when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not), exporting over
 * OTLP/HTTP in batches: the exporter reads the endpoint and the other standard
 * OTEL_EXPORTER_OTLP_* / OTEL_BSP_* variables itself. `OTEL_SERVICE_NAME` overrides
 * `serviceName`. `spanProcessor` replaces the exporter (tests: an in-memory exporter).
 * Call it before the app is built; {@link flushTracing} exports the last spans at shutdown.
 */
export function startTracing(config: TracingConfig, serviceName: string, options: { spanProcessor?: SpanProcessor } = {}): Tracing {
  const endpoint = config.otlpTracesEndpoint ?? config.otlpEndpoint;
  if (config.otelSdkDisabled || (!options.spanProcessor && !endpoint)) return OFF;
  if (provider) throw new Error('tracing is already started in this process');
  const installed = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.otelServiceName ?? serviceName }),
    spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  installed.register();
  provider = installed;
  return {
    async shutdown() {
      if (provider !== installed) return;
      provider = undefined;
      await installed.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Whether a tracer provider is installed: test it before building anything for a span. */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/** Exports the spans still buffered: the last step of an app's graceful shutdown (libs/tasks ResourcesShutdown). Nothing to do when off. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

const tracer = () => trace.getTracer(TRACER);

/** Messaging attributes (OTel semantic conventions for messaging) of one task's job. */
function messagingAttributes(operation: 'send' | 'process', queue: string, taskId: string): Attributes {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': queue,
    'messaging.message.id': taskId,
  };
}

/** The span context a carrier holds, if any. */
function spanContextIn(carrier: TraceCarrier | undefined): SpanContext | undefined {
  return carrier ? trace.getSpanContext(propagation.extract(context.active(), carrier)) : undefined;
}

/** A job about to be added, as the producer holds it (structurally libs/queue's TaskJobSpec). */
export interface SendingJob {
  data: { taskId: string; trace?: TraceCarrier };
  /** The trace context of the job this one replaces (a requeue, a repair): the send links to it. */
  follows?: TraceCarrier;
}

/**
 * Producer spans ("send <queue>") for jobs about to be added, one per task, children of the
 * active context. Each span's context is written into its job's `data.trace`. Only call it
 * when {@link tracingEnabled}; undefined otherwise.
 */
export function startSendSpans(queue: string, jobs: readonly SendingJob[]): Span[] | undefined {
  if (!provider) return undefined;
  return jobs.map((job) => {
    const previous = spanContextIn(job.follows);
    const links: Link[] = previous ? [{ context: previous, attributes: { 'taskq.link': 'previous send' } }] : [];
    const span = tracer().startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, links, attributes: messagingAttributes('send', queue, job.data.taskId) });
    const carrier: TraceCarrier = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    job.data.trace = carrier;
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

/** Marks a span as failed without an exception, e.g. a client call answered with an HTTP error status (`errorType`: "503"). */
export function markSpanError(span: Span, errorType: string, message?: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function failSpan(span: Span, error: unknown, errorType?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setAttribute('error.type', errorType ?? (error instanceof Error ? error.name : 'Error'));
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
 * A consumer span ("process <queue>") for one attempt. A worker processes one job at a time
 * with no ambient context, so (as the messaging conventions allow) the send's context is its
 * parent: a task's spans in the API and the workers are one trace. Every attempt also links to
 * the send (the conventions' SHOULD), which is how a later attempt, started maybe hours after,
 * points back at it. Only call it when {@link tracingEnabled}; undefined otherwise.
 */
export function startAttemptSpan(facts: AttemptSpanFacts): Span | undefined {
  if (!provider) return undefined;
  const parent = facts.carrier ? propagation.extract(context.active(), facts.carrier) : context.active();
  const producer = facts.carrier ? trace.getSpanContext(parent) : undefined;
  const attributes = messagingAttributes('process', facts.queue, facts.taskId);
  attributes['taskq.attempt'] = facts.attempt;
  if (facts.queueWaitMs !== undefined) attributes['taskq.queue_wait_ms'] = facts.queueWaitMs;
  const links: Link[] = producer ? [{ context: producer, attributes: { 'taskq.link': 'send' } }] : [];
  return tracer().startSpan(`process ${facts.queue}`, { kind: SpanKind.CONSUMER, links, attributes }, parent);
}

/** Runs `work` with `span` active, so the spans it starts nest inside. */
export function withinSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), work);
}

/** Ends an attempt's span with its outcome (`error` for anything but success: `error.type` is then the outcome). */
export function endAttemptSpan(span: Span | undefined, outcome: string, error?: string): void {
  if (!span) return;
  span.setAttribute('taskq.outcome', outcome);
  if (error !== undefined) failSpan(span, new Error(error), outcome);
  span.end();
}

const NO_HEADERS: TraceCarrier = Object.freeze({}) as TraceCarrier;

/** Trace context headers for an outgoing request (`traceparent`), so the receiver can join the trace; none when tracing is off. */
export function outgoingTraceHeaders(): TraceCarrier {
  if (!provider) return NO_HEADERS;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * A client span around a handler's call to the outside (an HTTP request, an SMTP send),
 * nested in the attempt's span. `attributes` is called only when tracing is on; plain
 * `work(undefined)` when it is off.
 */
export async function clientSpan<T>(name: string, attributes: () => Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!provider) return work(undefined);
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes: attributes() }, async (span) => {
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
