import { createHash, randomUUID } from 'node:crypto';
import {
  MAX_SCHEDULE_AHEAD_MS,
  TASK_TYPE_NAMES,
  TaskStatus,
  getTaskType,
  isTaskType,
  validatePayload,
  validPayloadNow,
  type BackoffPolicy,
  type PayloadValidation,
  type FieldError,
  type SubmitTaskDto,
  type TaskType,
} from '@taskq/contracts';
import type { NewTask, QueueableTask } from '@taskq/persistence';
import { ForbiddenAddressError, assertPublicHost } from './outbound-address-guard';

/** A new task: the row to insert, and what its job needs. */
export type PreparedTask = NewTask & QueueableTask & { status: TaskStatus.Queued | TaskStatus.Delayed };

export type Preparation = { ok: true; task: PreparedTask } | { ok: false; errors: FieldError[]; unknownType?: string };

/**
 * Turns one validated request body into the row to store: payload checked against its
 * type, start time resolved, per-task options merged over the type's defaults. The API prepares submissions with it and the
 * monitor the runs of recurring schedules (`scheduleName`), so both create the same tasks.
 */
export interface PreparationContext {
  /** Owner of the task: the tenant of the API key or schedule that creates it. */
  tenant: string;
  idempotencyKey: string | null;
  /** Shared by every task of a bulk request. */
  now: Date;
  scheduleName?: string | null;
  /**
   * The hash a replay of `idempotencyKey` must match, when the key stands for more than this
   * task (a bulk request's `Idempotency-Key`: {@link bulkRequestHash}); else the task's own {@link requestHash}.
   */
  requestHash?: string;
  /** WEBHOOK_ALLOW_PRIVATE: a callback URL may name a loopback or private host. */
  allowPrivateCallbacks?: boolean;
}

export async function prepareTask(request: SubmitTaskDto, context: PreparationContext): Promise<Preparation> {
  if (!isTaskType(request.type)) return unknownType(request.type);
  return completePreparation(request, request.type, context, await validatePayload(request.type, request.payload));
}

/**
 * prepareTask's answer at once for a payload the fast validator accepts (most), else
 * undefined: then prepareTask decides (and names the failing fields).
 */
export function prepareTaskNow(request: SubmitTaskDto, context: PreparationContext): Preparation | undefined {
  if (!isTaskType(request.type)) return unknownType(request.type);
  const validation = validPayloadNow(request.type, request.payload);
  return validation && completePreparation(request, request.type, context, validation);
}

function unknownType(type: string): Preparation {
  return { ok: false, unknownType: type, errors: [{ field: 'type', messages: [`type must be one of: ${TASK_TYPE_NAMES.join(', ')}`] }] };
}

function completePreparation(request: SubmitTaskDto, type: TaskType, context: PreparationContext, validation: PayloadValidation<TaskType>): Preparation {
  const { tenant, idempotencyKey, now } = context;
  const definition = getTaskType(type);
  const errors: FieldError[] = validation.valid ? [] : [...validation.errors];

  const schedule = resolveRunAt(request, now);
  if ('error' in schedule) errors.push(schedule.error);

  const backoff: BackoffPolicy = { ...definition.backoff, ...request.backoff };
  if (request.backoff && backoff.maxDelayMs < backoff.delayMs) {
    errors.push({ field: 'backoff.maxDelayMs', messages: ['backoff.maxDelayMs must not be less than backoff.delayMs'] });
  }
  const callbackProblem = request.callbackUrl && !context.allowPrivateCallbacks ? privateTargetProblem(request.callbackUrl) : null;
  if (callbackProblem) errors.push({ field: 'callbackUrl', messages: [callbackProblem] });
  if (!validation.valid || errors.length > 0) return { ok: false, errors };

  const runAt = 'runAt' in schedule ? schedule.runAt : null;
  return {
    ok: true,
    task: {
      id: randomUUID(),
      type,
      status: runAt && runAt.getTime() > now.getTime() ? TaskStatus.Delayed : TaskStatus.Queued,
      payload: validation.payload,
      priority: request.priority ?? null,
      runAt,
      nextAttemptAt: null,
      maxAttempts: request.maxAttempts ?? definition.attempts,
      attemptsMade: 0,
      attemptBase: 0,
      backoff,
      timeoutMs: request.timeoutMs ?? definition.timeoutMs,
      idempotencyKey,
      requestHash: idempotencyKey ? (context.requestHash ?? requestHash(request)) : null,
      scheduleName: context.scheduleName ?? null,
      tenant,
      createdAt: now,
      callbackUrl: request.callbackUrl ?? null,
    },
  };
}

/**
 * Why a callback URL names a host no callback may reach, as far as the URL alone tells (a
 * literal loopback, private or reserved address, or localhost); the monitor checks the
 * resolved addresses again when it delivers.
 */
export function privateTargetProblem(url: string): string | null {
  const { hostname } = new URL(url);
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'callbackUrl must not point at localhost (set WEBHOOK_ALLOW_PRIVATE to allow it)';
  try {
    assertPublicHost(host);
  } catch (error) {
    if (error instanceof ForbiddenAddressError) return `callbackUrl must not point at a loopback, private or reserved address: ${error.message} (set WEBHOOK_ALLOW_PRIVATE to allow it)`;
    throw error;
  }
  return null;
}

const NO_RUN_AT = { runAt: null };

function resolveRunAt(request: SubmitTaskDto, now: Date): { runAt: Date | null } | { error: FieldError } {
  // Most submissions start now: no list to make.
  if (request.runAt == null && request.visibility_time == null && request.delayMs == null) return NO_RUN_AT;
  const given = [request.runAt != null && 'runAt', request.visibility_time != null && 'visibility_time', request.delayMs != null && 'delayMs'].filter(
    (name): name is string => typeof name === 'string',
  );
  if (given.length > 1) return { error: { field: given[1] as string, messages: [`give only one of runAt, visibility_time and delayMs (got ${given.join(', ')})`] } };
  const iso = request.runAt ?? request.visibility_time;
  const runAt = iso != null ? new Date(iso) : request.delayMs != null ? new Date(now.getTime() + request.delayMs) : null;
  if (runAt && Number.isNaN(runAt.getTime())) return { error: { field: given[0] ?? 'runAt', messages: ['must be a valid ISO 8601 time'] } };
  if (runAt && runAt.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
    return { error: { field: given[0] ?? 'runAt', messages: ['must be at most one year ahead'] } };
  }
  return { runAt };
}

/** SHA-256 of the request with keys sorted: the same body always hashes the same. */
export function requestHash(request: SubmitTaskDto): string {
  const { idempotencyKey: _key, ...body } = request;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** {@link requestHash} of a whole bulk request's tasks, in order: a replay must send the same tasks. */
export function bulkRequestHash(tasks: ReadonlyArray<Record<string, unknown>>): string {
  return createHash('sha256')
    .update(canonicalJson(tasks.map(({ idempotencyKey: _key, ...body }) => body)))
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
