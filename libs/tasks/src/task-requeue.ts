import { Logger } from '@nestjs/common';
import type { QueueableTask, TaskLifecycleStore, TaskRestorePoint, TaskSelection } from '@taskq/persistence';
import type { TaskEventSink } from '@taskq/contracts';
import { tracingEnabled, type TraceCarrier } from '@taskq/observability';
import type { DeadLetterMirror, TaskProducer } from '@taskq/queue';
import { waitingEventsOf } from './task-events';
import { jobSpecFor } from './task-job-spec';

/** What a requeue did: the tasks queued again, or none because some jobs were still held by a worker. */
export type RequeueOutcome = { kind: 'requeued'; tasks: QueueableTask[] } | { kind: 'locked'; taskIds: string[] };

/**
 * Requeue: the rows go back to `queued` with a fresh attempt budget, then their old jobs
 * (failed in Redis, or long gone) are replaced by new ones; if Redis refuses, the rows get
 * their previous status back, so PostgreSQL never says `queued` for a task without a job.
 */
export class TaskRequeue {
  private readonly logger = new Logger('TaskRequeue');

  constructor(
    private readonly lifecycle: TaskLifecycleStore,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
    private readonly events?: TaskEventSink,
  ) {}

  /**
   * Requeues up to `limit` selected tasks. A job a worker still holds (a run still stopping)
   * is not replaced: then nothing is requeued and the answer names those tasks. Rejects when
   * Redis is unavailable, after restoring the rows.
   */
  async requeue(selection: TaskSelection, limit: number): Promise<RequeueOutcome> {
    const tasks = await this.lifecycle.requeueTasks(selection, limit);
    if (tasks.length === 0) return { kind: 'requeued', tasks };
    try {
      const { locked, traces } = await this.removeJobs(tasks);
      if (locked.length > 0) {
        await this.lifecycle.restoreStatuses(tasks);
        return { kind: 'locked', taskIds: locked };
      }
      const now = Date.now();
      // Announced before the jobs go out, on the same connection (see TaskAdmission).
      const at = new Date(now);
      this.events?.publish(waitingEventsOf(tasks, () => at));
      const specs = tasks.map((task) => jobSpecFor(task, now));
      if (traces) for (const spec of specs) spec.follows = traces.get(spec.data.taskId);
      await this.producer.enqueueMany(specs);
    } catch (error) {
      await this.restore(tasks);
      throw error;
    }
    await this.deadLetters.remove(tasks.map((task) => task.id)).catch((error: Error) => this.logger.warn(`dead-letter mirror: ${error.message}`));
    return { kind: 'requeued', tasks };
  }

  /**
   * Gives tasks that PostgreSQL already holds as waiting (queued, delayed, retrying) their job
   * again: the reconciler's repair of a job Redis lost (`replace: false`) or finished while the
   * row is unfinished (`replace: true`: the finished job is removed first).
   */
  async queueJobs(tasks: QueueableTask[], { replace }: { replace: boolean }): Promise<void> {
    if (tasks.length === 0) return;
    const now = Date.now();
    const specs = tasks.map((task) => jobSpecFor(task, now));
    await (replace ? this.producer.replaceJobs(specs) : this.producer.enqueueMany(specs));
  }

  /**
   * The tasks whose old job a worker still holds; the others' old jobs are removed. With
   * tracing on, also the trace context each removed job carried: the new send links to it.
   */
  private async removeJobs(tasks: QueueableTask[]): Promise<{ locked: string[]; traces?: Map<string, TraceCarrier> }> {
    const traces = tracingEnabled() ? new Map<string, TraceCarrier>() : undefined;
    const removals = await Promise.all(tasks.map((task) => this.producer.removeJob(task.type, task.id, traces && ((trace) => traces.set(task.id, trace)))));
    return { locked: tasks.filter((_, index) => removals[index] === 'locked').map((task) => task.id), traces };
  }

  private async restore(tasks: TaskRestorePoint[]): Promise<void> {
    await this.lifecycle.restoreStatuses(tasks).catch((restore: Error) => this.logger.error(`could not restore statuses: ${restore.message}`));
  }
}
