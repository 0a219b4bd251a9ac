import { isTaskType, type TaskStatus, type TaskType } from '@taskq/contracts';

/** The statuses of a task that has not finished: its job should be in Redis. */
export type UnfinishedStatus = TaskStatus.Queued | TaskStatus.Delayed | TaskStatus.Retrying | TaskStatus.Active;

/**
 * A stored task as its job needs it: its queue (type), priority, when it is due, and what its
 * attempt budget has used. Every store that hands tasks over to be queued returns this shape
 * (libs/tasks builds the job from it), and so does a freshly prepared task.
 */
export interface QueueableTask {
  id: string;
  type: TaskType;
  status: UnfinishedStatus;
  /** Its owner: who may watch its events. */
  tenant: string;
  priority: number | null;
  /** When a delayed task runs; null: now. */
  runAt: Date | null;
  /** When a retrying task's next attempt is due. */
  nextAttemptAt: Date | null;
  maxAttempts: number;
  attemptsMade: number;
  /** The current attempt budget began after this attempt (a manual retry or a free hand-back moved it on). */
  attemptBase: number;
}

/** A QueueableTask's columns, camelCased, as a SELECT or an UPDATE of `tasks <alias>` returns them. */
export const queueableTaskColumns = (alias: string): string =>
  `${alias}.id, ${alias}.type, ${alias}.status, ${alias}.tenant, ${alias}.priority, ${alias}.run_at AS "runAt", ${alias}.next_attempt_at AS "nextAttemptAt", ` +
  `${alias}.max_attempts AS "maxAttempts", ${alias}.attempts_made AS "attemptsMade", ${alias}.attempt_base AS "attemptBase"`;

/**
 * The rows of registered types, typed as such: the one place a stored type (text) becomes a
 * TaskType. A task written by a build with other types has no queue here and is left out.
 */
export function ofRegisteredTypes<T extends { type: string }>(rows: T[]): Array<T & { type: TaskType }> {
  return byRegistration(rows).registered;
}

/** {@link ofRegisteredTypes}, and the rows it leaves out. */
export function byRegistration<T extends { type: string }>(rows: T[]): { registered: Array<T & { type: TaskType }>; unregistered: T[] } {
  const registered: Array<T & { type: TaskType }> = [];
  const unregistered: T[] = [];
  for (const row of rows) {
    if (isRegistered(row)) registered.push(row);
    else unregistered.push(row);
  }
  return { registered, unregistered };
}

const isRegistered = <T extends { type: string }>(row: T): row is T & { type: TaskType } => isTaskType(row.type);

/** How a requeued task was before, to put it back if its job cannot be queued. */
export interface TaskRestorePoint {
  id: string;
  previousStatus: TaskStatus;
  previousFinishedAt: Date | null;
}
