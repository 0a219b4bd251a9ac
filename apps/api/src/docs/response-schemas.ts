import type { HealthCheckResult } from '@nestjs/terminus';
import {
  API_KEY_SCOPES,
  AttemptOutcome,
  MAX_STATS_WINDOW_MINUTES,
  QUEUE_DEPTH_STATES,
  TaskStatus,
  type ApiKeyView,
  type AttemptView,
  type BackoffPolicy,
  type BulkSubmitResponse,
  type CallbackDeliveryView,
  type CallbackView,
  type ConsoleSessionView,
  type CountResponse,
  type DeadLetterGroupView,
  type CreatedApiKeyView,
  type EventSeries,
  type FieldError,
  type QueueDepthView,
  type ScheduleList,
  type ScheduleView,
  type SigningSecretView,
  type SubmitTaskResponse,
  type TaskPage,
  type TaskStatsView,
  type TaskSummaryView,
  type TaskTypeStats,
  type TaskTypeView,
  type TaskView,
} from '@taskq/contracts';
import type { ProblemDetails } from '../errors/problem.exception';
import type { TaskLifecycleService } from '../tasks/task-lifecycle.service';
import { schemaRef, type JsonSchema } from './dto-schemas';

type CancelResponse = Awaited<ReturnType<TaskLifecycleService['cancel']>>;
type Liveness = { status: 'ok' };

/**
 * An object schema with exactly the properties of `T`: a field added to a response interface
 * without its schema here, or a schema for a field that is gone, does not compile.
 */
function objectOf<T>(description: string, properties: { [K in keyof T]-?: JsonSchema }, optional: ReadonlyArray<keyof T & string> = []): JsonSchema {
  const required = Object.keys(properties).filter((name) => !optional.includes(name as keyof T & string));
  return { type: 'object', description, properties, required };
}

const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema['type'], 'null'] });
const text = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const integer = (description?: string): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}) });
const time = (description?: string): JsonSchema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
const anyValue = (description: string): JsonSchema => ({ description });
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });

const taskId = { type: 'string', format: 'uuid', description: 'Task id (also the BullMQ job id and the idempotency key handlers get).' };

const taskSummaryProperties: { [K in keyof TaskSummaryView]-?: JsonSchema } = {
  id: taskId,
  type: text('Task type (see GET /task-types).'),
  status: schemaRef('TaskStatus'),
  tenant: text('Owner: the tenant of the API key (or schedule) that created it.'),
  lastError: nullable(text('Error of the last failed attempt.')),
  priority: nullable(integer('1 (most urgent) … 1000; null: after every prioritised task, first in first out.')),
  runAt: nullable(time('Time before which the task does not start.')),
  maxAttempts: integer('Attempts of the current budget (reset by a manual retry or a DLQ requeue).'),
  attemptsMade: integer("Attempts made over the task's whole life."),
  backoff: schemaRef('BackoffPolicy'),
  timeoutMs: integer('Per-attempt deadline, in ms.'),
  idempotencyKey: nullable(text()),
  scheduleName: nullable(text('The recurring schedule that created the task; null for a submitted task.')),
  nextAttemptAt: nullable(time('When a `retrying` task runs again.')),
  createdAt: time(),
  startedAt: nullable(time()),
  finishedAt: nullable(time()),
  callbackUrl: nullable(text('Where its terminal state is POSTed (signed: Taskq-Signature); null: nowhere.')),
  progress: { type: ['number', 'object', 'null'], minimum: 0, maximum: 100, description: 'The latest progress its handler reported: a percentage, or a JSON object of at most 4 KiB; null before any.' },
  progressUpdatedAt: nullable(time('When the progress was last stored (at most every 250 ms per task).')),
};

const scheduleView = objectOf<ScheduleView>('A recurring schedule.', {
  callbackUrl: nullable(text('The completion callback of the tasks it creates.')),
  name: text(),
  tenant: text('Owner of the tasks its runs create.'),
  cron: text(),
  tz: nullable(text('IANA time zone; null: UTC.')),
  type: text(),
  payload: anyValue('The payload each run submits (valid for `type`).'),
  enabled: { type: 'boolean' },
  createdAt: time(),
  updatedAt: time(),
  lastRunAt: nullable(time('When it last created a task.')),
  nextRunAt: nullable(time('When it runs next; null while disabled.')),
});

const apiKeyProperties: { [K in keyof ApiKeyView]-?: JsonSchema } = {
  name: text(),
  prefix: text('Public part of the key: identifies it in lists, logs and DELETE /keys/{prefix}.'),
  scopes: arrayOf({ type: 'string', enum: [...API_KEY_SCOPES] }),
  tenant: text(),
  createdAt: time(),
  lastUsedAt: nullable(time()),
  revokedAt: nullable(time()),
};

const eventSeries = (what: string): JsonSchema => ({ ...schemaRef('EventSeries'), description: what });

const taskStats = objectOf<TaskStatsView>("Every registered task type's figures (GET /stats).", {
  tenant: nullable(text("Whose tasks the history counts; null: every tenant's.")),
  windowMinutes: { type: 'integer', minimum: 1, maximum: MAX_STATS_WINDOW_MINUTES },
  from: time("Start of the window's first minute: perMinute[i] is the minute starting i minutes later."),
  to: time('End of the window: the end of the current minute.'),
  types: arrayOf(
    objectOf<TaskTypeStats>('One task type.', {
      type: text(),
      depth: objectOf<QueueDepthView>(
        "Jobs in the type's queue now, by BullMQ state (Redis). One queue serves every tenant, so these are every tenant's.",
        Object.fromEntries(QUEUE_DEPTH_STATES.map((state) => [state, integer()])) as Record<keyof QueueDepthView, JsonSchema>,
      ),
      completed: eventSeries('Tasks that completed.'),
      failedAttempts: eventSeries('Attempts that failed, timed out or were lost (each spends an attempt).'),
      dead: eventSeries('Tasks that died.'),
      durationMs: {
        type: 'object',
        description: 'Run time of the attempts that completed tasks in the window; null when none did.',
        required: ['p50', 'p95'],
        properties: { p50: nullable(integer()), p95: nullable(integer()) },
      },
    }),
  ),
});

/** RFC 9457 problem document: every error answer of the API. */
const problemDetails = objectOf<ProblemDetails>(
  'RFC 9457 problem details (application/problem+json). `type` is stable: branch on it. 5xx answers carry only `requestId`; the details are in the server log.',
  {
    type: text('Stable problem type, e.g. /problems/validation-error.'),
    title: text(),
    status: integer('The HTTP status.'),
    detail: text('What went wrong, for a human.'),
    errors: arrayOf(schemaRef('FieldError')),
    requestId: text('Request id of a 5xx answer (also in the x-request-id header and on every log line of the request).'),
  },
  ['errors', 'requestId'],
);

/**
 * JSON Schemas of the API's answers, for the OpenAPI document's components. The answers are
 * TypeScript interfaces (in contracts), so their schemas are written here, checked against them
 * by {@link objectOf}.
 */
export const RESPONSE_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  TaskStatus: { type: 'string', enum: Object.values(TaskStatus), description: 'queued, delayed (until runAt), active, retrying (until nextAttemptAt), completed, dead, cancelled.' },
  AttemptOutcome: { type: 'string', enum: Object.values(AttemptOutcome) },
  BackoffPolicy: objectOf<BackoffPolicy>('How long a failed task waits before its next attempt.', {
    type: { type: 'string', enum: ['exponential', 'fixed'] },
    delayMs: integer('Base delay: the first retry waits up to this long.'),
    maxDelayMs: integer('No wait is longer.'),
    jitter: { type: 'string', enum: ['full', 'none'], description: 'full: a uniformly random time in [0, computed delay].' },
  }),
  SubmitTaskResponse: objectOf<SubmitTaskResponse>('An accepted task (committed in PostgreSQL).', {
    id: taskId,
    type: text(),
    status: schemaRef('TaskStatus'),
    createdAt: time(),
  }),
  BulkSubmitResponse: objectOf<BulkSubmitResponse>('Every task of the request, accepted.', {
    count: integer(),
    tasks: { ...arrayOf(schemaRef('SubmitTaskResponse')), description: 'In request order; a replayed idempotency key gives the original task.' },
  }),
  AttemptView: objectOf<AttemptView>('One attempt of a task.', {
    number: integer('1, 2, …; numbered across retries.'),
    workerId: text(),
    startedAt: time(),
    finishedAt: nullable(time()),
    durationMs: nullable(integer()),
    outcome: schemaRef('AttemptOutcome'),
    error: nullable(text()),
  }),
  TaskSummaryView: objectOf<TaskSummaryView>('A task in a list (no payload, result or attempts).', taskSummaryProperties),
  TaskView: objectOf<TaskView>('A task with its payload, result and every attempt.', {
    ...taskSummaryProperties,
    payload: anyValue("The submitted payload (see the type's payload schema)."),
    result: anyValue("The handler's result (its shape depends on the type); null until completed."),
    attempts: arrayOf(schemaRef('AttemptView')),
    callback: { oneOf: [schemaRef('CallbackView'), { type: 'null' }], description: 'The latest completion callback it owes or made; null without a callback URL or before its end.' },
  }),
  CallbackView: objectOf<CallbackView>('A completion callback: one per terminal state of a task with a callback URL.', {
    id: text('The delivery id, sent as Taskq-Delivery.'),
    event: { type: 'string', enum: ['completed', 'dead', 'cancelled'] },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'], description: 'failed: not delivered within 24 h of tries.' },
    attempts: integer(),
    nextAttemptAt: nullable(time()),
    deliveredAt: nullable(time()),
    lastStatusCode: nullable(integer()),
    lastError: nullable(text()),
  }),
  CallbackDeliveryList: objectOf<{ items: CallbackDeliveryView[] }>('Every try of every callback delivery of a task, oldest first.', {
    items: arrayOf(
      objectOf<CallbackDeliveryView>('One try.', {
        callbackId: text(),
        attempt: integer(),
        event: { type: 'string', enum: ['completed', 'dead', 'cancelled'] },
        at: time(),
        statusCode: nullable(integer("The receiver's answer; null when none came.")),
        error: nullable(text()),
        durationMs: integer(),
      }),
    ),
  }),
  SigningSecret: objectOf<SigningSecretView>("A tenant's callback signing secret.", {
    tenant: text(),
    secret: text('HMAC-SHA256 key of Taskq-Signature.'),
    previousSecret: nullable(text('Still signing beside the new one (a second v1=) for 24 h after a rotation.')),
    rotatedAt: nullable(time()),
  }),
  TaskPage: objectOf<TaskPage>('One page of tasks, newest first.', {
    items: arrayOf(schemaRef('TaskSummaryView')),
    nextCursor: nullable(text('Pass as `cursor` for the next page; null on the last page.')),
  }),
  CancelResponse: objectOf<CancelResponse>('A cancelled task.', {
    id: taskId,
    status: schemaRef('TaskStatus'),
    previousStatus: schemaRef('TaskStatus'),
  }),
  CountResponse: objectOf<CountResponse>('How many tasks the request changed.', { count: integer() }),
  DeadLetterGroupView: objectOf<DeadLetterGroupView>('Dead tasks of one type that died of the same error.', {
    type: text(),
    error: nullable(text('Their last error; null for tasks that died without a message.')),
    count: integer(),
    firstDiedAt: time(),
    lastDiedAt: time(),
  }),
  ConsoleSessionView: objectOf<ConsoleSessionView>('A console session: who it acts as, and its CSRF token.', {
    keyName: text(),
    keyPrefix: text('The API key it was opened with (`bootstrap`: API_KEY).'),
    tenant: text(),
    scopes: arrayOf({ type: 'string', enum: [...API_KEY_SCOPES] }),
    allTenants: { type: 'boolean', description: 'Admin keys see and act on every tenant.' },
    csrfToken: text('Send it as X-CSRF-Token with every request of the session that changes something.'),
    expiresAt: time(),
  }),
  TaskTypeView: objectOf<TaskTypeView>('A registered task type.', {
    type: text(),
    description: text(),
    queue: text('BullMQ queue name.'),
    payloadSchema: { type: 'object', description: 'JSON Schema of its payload (also in this document as <Type>Payload).' },
    defaults: {
      type: 'object',
      required: ['attempts', 'backoff', 'timeoutMs', 'concurrency'],
      properties: { attempts: integer(), backoff: schemaRef('BackoffPolicy'), timeoutMs: integer(), concurrency: integer('Jobs one worker process runs at once.') },
    },
  }),
  EventSeries: objectOf<EventSeries>('Counts of one kind of event over the window.', {
    perMinute: { ...arrayOf(integer()), description: 'One count per minute of the window, oldest first.' },
    total: integer('Their sum.'),
  }),
  TaskStats: taskStats,
  ScheduleView: scheduleView,
  ScheduleList: objectOf<ScheduleList>('Every schedule, sorted by name.', { items: arrayOf(schemaRef('ScheduleView')) }),
  ApiKeyView: objectOf<ApiKeyView>('An API key as listed: never the key itself.', apiKeyProperties),
  CreatedApiKeyView: objectOf<CreatedApiKeyView>('A new API key: the only answer that shows it.', {
    ...apiKeyProperties,
    key: text('The key: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>". It is stored as a hash and never shown again.'),
  }),
  Liveness: objectOf<Liveness>('The process answers.', { status: { type: 'string', enum: ['ok'] } }),
  Readiness: objectOf<HealthCheckResult>(
    'Redis and PostgreSQL both answer.',
    {
      status: { type: 'string', enum: ['ok'] },
      info: { type: 'object', additionalProperties: { type: 'object', properties: { status: text() } } },
      error: { type: 'object' },
      details: { type: 'object', additionalProperties: { type: 'object', properties: { status: text() } } },
    },
    ['info', 'error'],
  ),
  FieldError: objectOf<FieldError>('One failing input field.', {
    field: text('Dotted path, e.g. payload.to or tasks.3.payload.ms.'),
    messages: arrayOf(text()),
  }),
  ProblemDetails: { ...problemDetails, additionalProperties: true },
};
