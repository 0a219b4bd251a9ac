import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MonitorConfig } from '@taskq/config';
import { TaskStatus, isTaskType, type TaskType } from '@taskq/contracts';
import { TaskQueries, TaskStore, type UnfinishedStatus, type UnfinishedTask, type UnfinishedTaskKey, type UnfinishedTaskRef } from '@taskq/persistence';
import { TaskProducer } from '@taskq/queue';
import { PRODUCER_REDIS } from '../producer-redis';
import { requeueSpecFor } from './requeue-spec';

/** What one run found and did. */
export interface ReconcileRun {
  /** Unfinished tasks (older than the grace period) whose job was looked up in Redis. */
  checked: number;
  /** Tasks queued again because their job was missing, by the status PostgreSQL had for them. */
  requeued: Record<UnfinishedStatus, number>;
  requeuedByType: Record<string, number>;
  /** Unfinished tasks of a type this build does not know: no queue to put them in. */
  unregistered: Record<string, number>;
  /** Stopped early (shutdown, or the lease was lost): the next run goes over everything again. */
  interrupted: boolean;
  durationMs: number;
}

export const totalRequeued = (run: ReconcileRun): number => Object.values(run.requeued).reduce((sum, n) => sum + n, 0);

const UNFINISHED_STATUSES: UnfinishedStatus[] = [TaskStatus.Queued, TaskStatus.Delayed, TaskStatus.Retrying, TaskStatus.Active];

/** A task of a type this build knows: its job has a queue. */
type QueueableTaskRef = UnfinishedTaskRef & { type: TaskType };

/** Recorded on the running attempt of an active task whose job vanished. */
export const LOST_ATTEMPT_ERROR = 'its job was lost from Redis while it ran (Redis lost its data); the reconciler queued the task again without spending an attempt';

/**
 * Puts back in their queues the unfinished tasks whose BullMQ job Redis no longer has
 * (Redis restarted without persistence, a flushed key, a lost write). PostgreSQL is the
 * record: it walks every queued, delayed, retrying and active task in keyset pages, asks
 * Redis which of a page's jobs exist (one pipeline of EXISTS), and re-queues the missing
 * ones with the producer path the API uses. A job that exists in any state, even
 * completed or failed, is left alone.
 *
 * Never taken for lost: a task changed within RECONCILE_GRACE_MS (a submission between its
 * INSERT and its job, a worker between two writes), and an active task before its attempt's
 * deadline (timeout_ms) plus that grace: its worker may still be running it, and every
 * worker records an attempt by its deadline. Before re-queueing, the task is read again:
 * changed since, its job was probably finished and removed meanwhile, so it is skipped.
 */
@Injectable()
export class Reconciler {
  constructor(
    private readonly queries: TaskQueries,
    private readonly store: TaskStore,
    private readonly producer: TaskProducer,
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  /** One pass over every unfinished task; `signal` stops it between two pages. */
  async reconcile(signal?: AbortSignal): Promise<ReconcileRun> {
    const startedAt = Date.now();
    const settledBefore = new Date(startedAt - this.config.reconcileGraceMs);
    const limit = this.config.reconcileBatchSize;
    const run: ReconcileRun = {
      checked: 0,
      requeued: { queued: 0, delayed: 0, retrying: 0, active: 0 },
      requeuedByType: {},
      unregistered: {},
      interrupted: false,
      durationMs: 0,
    };
    statuses: for (const status of UNFINISHED_STATUSES) {
      let after: UnfinishedTaskKey | undefined;
      for (;;) {
        if (signal?.aborted) {
          run.interrupted = true;
          break statuses;
        }
        const page = await this.queries.unfinishedTasksPage({ status, settledBefore, after, limit });
        const queueable = page.filter((task): task is QueueableTaskRef => {
          if (isTaskType(task.type)) return true;
          run.unregistered[task.type] = (run.unregistered[task.type] ?? 0) + 1;
          return false;
        });
        run.checked += queueable.length;
        const missing = await this.withoutJob(queueable);
        if (missing.length > 0) await this.requeue(missing, run);
        const last = page.at(-1);
        if (page.length < limit || !last) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
    }
    run.durationMs = Date.now() - startedAt;
    return run;
  }

  /** The tasks whose job key does not exist in Redis. */
  private async withoutJob(tasks: QueueableTaskRef[]): Promise<QueueableTaskRef[]> {
    if (tasks.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const task of tasks) pipeline.exists(this.producer.queue(task.type).toKey(task.id));
    const replies = (await pipeline.exec()) ?? [];
    return tasks.filter((_task, index) => {
      const [error, exists] = replies[index] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      return exists === 0;
    });
  }

  private async requeue(missing: UnfinishedTaskRef[], run: ReconcileRun): Promise<void> {
    const seen = new Map(missing.map((task) => [task.id, task]));
    const waiting = missing.filter((task) => task.status !== TaskStatus.Active).map((task) => task.id);
    const unchanged = (await this.queries.unfinishedTasks(waiting)).filter((task) => {
      const before = seen.get(task.id);
      return before?.status === task.status && before.updatedAt.getTime() === task.updatedAt.getTime();
    });
    // Written before the jobs are added: if adding fails, these tasks are `queued` without a
    // job, and the next run (after the grace period) adds them like any other.
    const released = await this.store.releaseLostAttempts(
      missing.filter((task) => task.status === TaskStatus.Active).map((task) => ({ taskId: task.id, attemptsMade: task.attemptsMade, updatedAt: task.updatedAt })),
      { error: LOST_ATTEMPT_ERROR, at: new Date() },
    );
    const requeued: Array<{ task: UnfinishedTask; was: UnfinishedStatus }> = [
      ...unchanged.map((task) => ({ task, was: task.status })),
      ...released.map((task) => ({ task, was: TaskStatus.Active as const })),
    ];
    if (requeued.length === 0) return;
    const now = Date.now();
    await this.producer.enqueueMany(requeued.map(({ task }) => requeueSpecFor(task, now)));
    for (const { task, was } of requeued) {
      run.requeued[was]++;
      run.requeuedByType[task.type] = (run.requeuedByType[task.type] ?? 0) + 1;
    }
  }
}
