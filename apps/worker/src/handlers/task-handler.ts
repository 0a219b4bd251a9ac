import { Injectable } from '@nestjs/common';
import type { PayloadOf, ResultOf, TaskProgress, TaskType } from '@taskq/contracts';

/** What a handler knows about the attempt it runs. */
export interface TaskContext {
  /** Stable across attempts: use it as the idempotency key towards other systems. */
  taskId: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Fires at the attempt's deadline (and, later, on cancel). Pass it to every I/O call. */
  signal: AbortSignal;
  /**
   * Reports progress: a percentage (0–100) or a JSON object of at most 4 KiB, shown on the
   * task and streamed to its watchers. Cheap to call often: at most one write per 250 ms is
   * made, and the last value always lands. Rejects (storing nothing) for any other value.
   */
  progress(value: TaskProgress): Promise<void>;
  logger: TaskLogger;
}

export interface TaskLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/**
 * One handler per task type. It gets a validated payload and returns the result that is
 * stored in PostgreSQL. Throw `PermanentTaskError` when retrying cannot help.
 * Handlers run at least once per task: make side effects idempotent with `context.taskId`.
 */
export interface TaskHandler<T extends TaskType> {
  handle(payload: PayloadOf<T>, context: TaskContext): Promise<ResultOf<T>>;
}

export const TASK_HANDLER_METADATA = 'taskq:handles-task';

type HandlerClass<T extends TaskType> = abstract new (...args: never[]) => TaskHandler<T>;

/**
 * Declares the class as the handler of `type`. The compiler checks that the class handles
 * that type's payload and result; the worker checks at start-up that every type has exactly one.
 */
export function HandlesTask<T extends TaskType>(type: T): <C extends HandlerClass<T>>(target: C) => void {
  return (target) => {
    Reflect.defineMetadata(TASK_HANDLER_METADATA, type, target);
    Injectable()(target as unknown as new (...args: never[]) => object);
  };
}
