import type { TaskType } from '@taskq/contracts';
import type { QueueableTask, UnfinishedStatus } from './queueable-task';

export type { UnfinishedStatus } from './queueable-task';

/** Where a page of unfinished tasks ends: the next page of the same status starts after it. */
export interface UnfinishedTaskKey {
  createdAt: Date;
  id: string;
}

export interface UnfinishedTaskPageQuery {
  status: UnfinishedStatus;
  /**
   * Only tasks not updated since this time; an active task only once its attempt's deadline
   * (updated_at + timeout_ms) is before it too.
   */
  settledBefore: Date;
  /** The last task of the previous page. */
  after?: UnfinishedTaskKey;
  limit: number;
}

/** An unfinished task as the reconciler first sees it: enough to look for its job. */
export interface UnfinishedTaskRef {
  id: string;
  type: TaskType;
  status: UnfinishedStatus;
  createdAt: Date;
  /** Millisecond precision, as JavaScript reads the column: compare it with another read. */
  updatedAt: Date;
  attemptsMade: number;
}

/** One page of unfinished tasks of one status. */
export interface UnfinishedTaskPage {
  /** Those of registered types: their jobs have a queue. */
  tasks: UnfinishedTaskRef[];
  /** The types of the others (one entry per task), which this build cannot queue. */
  unregisteredTypes: string[];
  /** Where the next page starts; undefined: this was the last. */
  next?: UnfinishedTaskKey;
}

/** An active task whose job is gone, as the reconciler read it: released only if unchanged since. */
export interface LostAttempt {
  taskId: string;
  /** The number of its running attempt. */
  attemptsMade: number;
  updatedAt: Date;
}

/** A task whose run nobody held any more, after the reconciler charged that run: queued again, or dead with its budget spent. */
export type AbandonedRun = { dead: false; task: QueueableTask } | { dead: true; id: string; type: TaskType };
