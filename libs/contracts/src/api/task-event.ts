import type { TaskStatus } from '../task-status';

/** What a handler reports as its progress: a percentage (0–100) or a small JSON object. */
export type TaskProgress = number | Record<string, unknown>;

/** Largest progress object, serialized as JSON. */
export const MAX_PROGRESS_BYTES = 4_096;

/** A task changed status (`GET /events`, `GET /tasks/:id/events`: `event: status`). */
export interface TaskStatusEvent {
  kind: 'status';
  taskId: string;
  type: string;
  tenant: string;
  status: TaskStatus;
  /** The attempt the change belongs to; null when none has run (queued, delayed, cancelled before a start). */
  attempt: number | null;
  /** The attempt's error, for `retrying` and `dead`. */
  error: string | null;
  at: string;
}

/** A running task reported progress (`event: progress`). */
export interface TaskProgressEvent {
  kind: 'progress';
  taskId: string;
  type: string;
  tenant: string;
  progress: TaskProgress;
  at: string;
}

export type TaskEvent = TaskStatusEvent | TaskProgressEvent;

/**
 * Where the processes that commit a task's changes announce them, after the commit (the
 * queue lib's Redis publisher in the apps). Framework-free, so the persistence lib can
 * announce what its batched writers commit without depending on Redis.
 */
export abstract class TaskEventSink {
  abstract publish(events: readonly TaskEvent[]): void;
}

/** Why a progress value is refused, or null when it is acceptable. */
export function progressValueProblem(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 && value <= 100 ? null : `a progress percentage must be a number from 0 to 100 (got ${value})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'progress must be a number from 0 to 100 or a plain JSON object';
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return `progress must be serializable as JSON (${(error as Error).message})`;
  }
  const bytes = new TextEncoder().encode(json ?? '').length;
  return bytes <= MAX_PROGRESS_BYTES ? null : `a progress object may hold at most ${MAX_PROGRESS_BYTES} bytes of JSON (got ${bytes})`;
}
