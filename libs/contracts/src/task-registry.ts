import type { BackoffPolicy } from './backoff-policy';
import { EmailPayload, type EmailResult } from './task-types/email.payload';
import { NoopPayload, type NoopResult } from './task-types/noop.payload';
import { ReportPayload, type ReportResult } from './task-types/report.payload';
import { SleepPayload, type SleepResult } from './task-types/sleep.payload';
import { WebhookPayload, type WebhookResult } from './task-types/webhook.payload';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- class constructors of any arity
export type PayloadClass = new (...args: any[]) => object;

/** Everything taskq knows about one task type. Adding a type: one DTO, one entry here, one handler. */
export interface TaskTypeDefinition {
  description: string;
  /** class-validator DTO: the API and the worker both validate payloads with it. */
  payload: PayloadClass;
  /**
   * WARNING: the BullMQ queue name is stored in Redis. Renaming it strands the jobs
   * already queued under the old name.
   */
  queue: string;
  /** Total attempts, the first one included. */
  attempts: number;
  backoff: BackoffPolicy;
  /** An attempt running longer than this is aborted and counted as failed. */
  timeoutMs: number;
  /** Jobs of this type one worker process runs at once (overridable per deployment). */
  concurrency: number;
}

const standardBackoff = (delayMs: number, maxDelayMs: number): BackoffPolicy => ({
  type: 'exponential',
  delayMs,
  maxDelayMs,
  jitter: 'full',
});

/**
 * The task-type registry. Keys are the public type names clients submit.
 * WARNING: type names are stored in PostgreSQL (tasks.type) and in Redis.
 */
export const TASK_TYPES = {
  email: {
    description: 'Send an email over SMTP.',
    payload: EmailPayload,
    queue: 'email',
    attempts: 5,
    backoff: standardBackoff(5_000, 10 * 60_000),
    timeoutMs: 30_000,
    concurrency: 10,
  },
  webhook: {
    description: 'Make an HTTP request; 2xx completes, 5xx and time-outs retry, 4xx fails permanently.',
    payload: WebhookPayload,
    queue: 'webhook',
    attempts: 8,
    backoff: standardBackoff(2_000, 15 * 60_000),
    timeoutMs: 130_000,
    concurrency: 20,
  },
  report: {
    description: 'Aggregate task history from PostgreSQL: counts per type and status, duration percentiles.',
    payload: ReportPayload,
    queue: 'report',
    attempts: 3,
    backoff: standardBackoff(10_000, 5 * 60_000),
    timeoutMs: 120_000,
    concurrency: 2,
  },
  noop: {
    description: 'Do nothing and succeed (demos, tests, benchmarks).',
    payload: NoopPayload,
    queue: 'noop',
    attempts: 3,
    backoff: standardBackoff(1_000, 60_000),
    timeoutMs: 10_000,
    concurrency: 50,
  },
  sleep: {
    description: 'Wait for `ms` milliseconds (demos, tests, shutdown drills).',
    payload: SleepPayload,
    queue: 'sleep',
    attempts: 3,
    backoff: standardBackoff(1_000, 60_000),
    timeoutMs: 310_000,
    concurrency: 20,
  },
} as const satisfies Record<string, TaskTypeDefinition>;

export type TaskType = keyof typeof TASK_TYPES;
export type PayloadOf<T extends TaskType> = InstanceType<(typeof TASK_TYPES)[T]['payload']>;

/** Result shape of each type, as stored in tasks.result. */
export interface TaskResults {
  email: EmailResult;
  webhook: WebhookResult;
  report: ReportResult;
  noop: NoopResult;
  sleep: SleepResult;
}
export type ResultOf<T extends TaskType> = TaskResults[T];

// Compile-time check that every registered type has a result shape and vice versa.
type MissingResult = Exclude<TaskType, keyof TaskResults>;
type ExtraResult = Exclude<keyof TaskResults, TaskType>;
const registryAndResultsAgree: [MissingResult, ExtraResult] extends [never, never] ? true : never = true;
void registryAndResultsAgree;

const registry = new Map<string, TaskTypeDefinition>(Object.entries(TASK_TYPES));

export const TASK_TYPE_NAMES = [...registry.keys()] as TaskType[];

/** Safe lookup: `constructor` or `__proto__` are not task types. */
export function isTaskType(name: unknown): name is TaskType {
  return typeof name === 'string' && registry.has(name);
}

export function getTaskType(name: TaskType): TaskTypeDefinition {
  const definition = registry.get(name);
  if (!definition) throw new Error(`Unknown task type "${name}"`);
  return definition;
}
