import type { JobsOptions } from 'bullmq';
import type { TraceCarrier } from '@taskq/observability';
import { MAX_PRIORITY, computeBackoffDelay, type AttemptOutcome, type BackoffPolicy, type TaskStatus, type TaskType } from '@taskq/contracts';

/**
 * What a BullMQ job carries: the task's id and type, no more. Redis dispatches; the worker
 * reads the payload, timeout and backoff from PostgreSQL as it records the attempt's start,
 * so the task has one source of truth and a queued job costs Redis little memory.
 * WARNING: stored in Redis; keep changes backward compatible with jobs already queued (jobs
 * queued by earlier versions also carry `payload`, `backoff`, `timeoutMs` and `attemptBase`,
 * which workers now ignore).
 */
export interface TaskJobData {
  taskId: string;
  type: TaskType;
  /** A record of the last run that its worker could not commit before it stopped: see {@link PendingRecord}. */
  pendingRecord?: PendingRecord;
  /** W3C trace context of the send, when tracing is on: the worker's attempt spans join its trace. */
  trace?: TraceCarrier;
}

/**
 * What a worker owed PostgreSQL when it had to stop while PostgreSQL was unreachable: the
 * outcome of a finished run (`finish`), or the hand-back of a run its shutdown interrupted
 * (`release`). It travels in the job, back in the queue, and the next worker to take the job
 * commits it first, so a handler that already finished does not run again.
 * WARNING: stored in Redis, like the rest of the job data.
 */
export type PendingRecord =
  | {
      kind: 'finish';
      attempt: number;
      outcome: AttemptOutcome.Completed | AttemptOutcome.Failed | AttemptOutcome.TimedOut | AttemptOutcome.Cancelled;
      taskStatus: TaskStatus.Completed | TaskStatus.Retrying | TaskStatus.Dead | TaskStatus.Cancelled;
      result: unknown;
      error: string | null;
      /** ISO 8601. */
      finishedAt: string;
      durationMs: number;
      /** ISO 8601. */
      nextAttemptAt: string | null;
    }
  | { kind: 'release'; attempt: number; error: string; finishedAt: string; durationMs: number };

/** A task's job, as libs/tasks builds it (`jobSpecFor`) and the producer adds it. */
export interface TaskJobSpec {
  data: TaskJobData;
  maxAttempts: number;
  priority: number | null;
  delayMs: number;
  /** With tracing on: the trace context of the job this one replaces (requeue, repair); the new send span links to it. Not stored. */
  follows?: TraceCarrier;
}

/** Name under which workers register {@link taskBackoffStrategy}. */
export const TASK_BACKOFF = 'taskq';

/** BullMQ runs prioritised jobs after unprioritised ones; taskq wants the reverse. */
export const UNPRIORITISED = MAX_PRIORITY + 1;

/** Finished jobs leave Redis after this: PostgreSQL keeps the history. */
export const REMOVE_ON_COMPLETE = { age: 3_600, count: 1_000 };
export const REMOVE_ON_FAIL = { age: 24 * 3_600, count: 10_000 };

export function jobOptionsFor(spec: TaskJobSpec): JobsOptions {
  return {
    jobId: spec.data.taskId,
    attempts: spec.maxAttempts,
    backoff: { type: TASK_BACKOFF },
    priority: spec.priority ?? UNPRIORITISED,
    delay: Math.max(0, spec.delayMs),
    removeOnComplete: REMOVE_ON_COMPLETE,
    removeOnFail: REMOVE_ON_FAIL,
  };
}

/**
 * Worker `settings.backoffStrategy` for a failure the runner did not record (it records every
 * outcome with its delay and retries with that): the policy in a job queued by an earlier
 * version, else 1 s.
 */
export function taskBackoffStrategy(attemptsMade: number, _type?: string, _error?: Error, job?: { data: unknown }): number {
  const data = job?.data as { backoff?: BackoffPolicy } | undefined;
  if (!data?.backoff) return 1_000;
  return computeBackoffDelay(data.backoff, attemptsMade);
}
