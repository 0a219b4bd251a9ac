import { Queue } from 'bullmq';
import { endSpans, startSendSpans, tracingEnabled, type TraceCarrier } from '@taskq/observability';
import type { RedisConnection } from './redis-connection';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
import { cancelChannel } from './cancel-channel';
import { queueNameFor } from './queue-names';
import { jobOptionsFor, type TaskJobData, type TaskJobSpec } from './task-job';

/** Redis refused or did not answer: the caller answers 503 and nothing is left half-queued. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** Where a task's job stands in Redis: gone, finished (completed, or failed for good), or still present. */
export type JobPresence = 'missing' | 'finished' | 'present';

/** The states in which a job waits to be taken, as BullMQ keys them: lists, then sorted sets. */
const WAITING_LISTS = ['wait', 'paused'] as const;
const WAITING_SETS = ['prioritized', 'delayed'] as const;

/** Most jobs one `addBulk` of {@link TaskProducer.enqueue} carries. */
const MAX_ENQUEUE_BATCH = 1_000;

/** Jobs per `addBulk` of {@link TaskProducer.enqueueMany}. */
const ENQUEUE_CHUNK = 100;

interface PendingJob {
  spec: TaskJobSpec;
  resolve: () => void;
  reject: (error: QueueUnavailableError) => void;
}

/**
 * Adds task jobs to their type's queue. One Queue object per type, sharing one connection.
 * Single jobs are batched: jobs enqueued together (the submissions of one group-committed
 * insert) go out as one pipelined `addBulk` per queue, and while a queue's `addBulk` is in
 * flight the next batch gathers, so batches grow with load and a lone job waits for nothing.
 */
export class TaskProducer {
  private readonly queues = new Map<TaskType, Queue>();
  /** Jobs waiting for their queue's next `addBulk`. */
  private readonly gathering = new Map<TaskType, PendingJob[]>();
  /** Queues with an `addBulk` in flight. */
  private readonly sending = new Set<TaskType>();
  private readonly flights = new Set<Promise<void>>();
  private flushScheduled = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  queue(type: TaskType): Queue {
    let queue = this.queues.get(type);
    if (!queue) {
      queue = new Queue(queueNameFor(type), { connection: this.connection, prefix: this.prefix, skipWaitingForReady: true });
      queue.on('error', () => undefined);
      this.queues.set(type, queue);
    }
    return queue;
  }

  allQueues(): Queue[] {
    return TASK_TYPE_NAMES.map((type) => this.queue(type));
  }

  /**
   * Queues one task's job, in one `addBulk` with the jobs enqueued at the same time. Rejects
   * with QueueUnavailableError when that `addBulk` failed: every job of the batch is refused
   * alike (some may have reached Redis all the same; the reconciler removes jobs of tasks
   * that do not exist).
   */
  enqueue(spec: TaskJobSpec): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const type = spec.data.type;
      const pending = this.gathering.get(type);
      if (pending) pending.push({ spec, resolve, reject });
      else this.gathering.set(type, [{ spec, resolve, reject }]);
      // After the current I/O callbacks: the other submissions of the same insert join the batch.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.sendGathered();
        });
      }
    });
  }

  /** Sends each queue's gathered jobs, unless its previous batch is still in flight (then they go after it). */
  private sendGathered(): void {
    for (const [type, pending] of this.gathering) {
      if (this.sending.has(type)) continue;
      const batch = pending.length <= MAX_ENQUEUE_BATCH ? pending : pending.splice(0, MAX_ENQUEUE_BATCH);
      if (batch === pending) this.gathering.delete(type);
      this.sending.add(type);
      const flight = this.sendBatch(type, batch);
      this.flights.add(flight);
      void flight.finally(() => this.flights.delete(flight));
    }
  }

  private async sendBatch(type: TaskType, batch: PendingJob[]): Promise<void> {
    try {
      await this.add(type, batch.map(({ spec }) => spec));
      for (const job of batch) job.resolve();
    } catch (error) {
      const refused = new QueueUnavailableError(`could not queue ${batch.length === 1 ? `task ${batch[0]?.spec.data.taskId}` : `${batch.length} tasks`}: ${(error as Error).message}`);
      for (const job of batch) job.reject(refused);
    } finally {
      this.sending.delete(type);
      if (this.gathering.has(type)) this.sendGathered();
    }
  }

  /**
   * One `addBulk`. With tracing on, inside a producer span per job, whose context the job
   * carries (`data.trace`); off, nothing else is built.
   */
  private async add(type: TaskType, specs: TaskJobSpec[]): Promise<void> {
    const queue = this.queue(type);
    const jobs = specs.map((spec) => ({ name: type, data: spec.data, opts: jobOptionsFor(spec) }));
    if (!tracingEnabled()) {
      await queue.addBulk(jobs);
      return;
    }
    // The jobs hold the same data objects: the spans' contexts written into them go out too.
    const spans = startSendSpans(queue.name, specs);
    try {
      await queue.addBulk(jobs);
      endSpans(spans);
    } catch (error) {
      endSpans(spans, error);
      throw error;
    }
  }

  /**
   * Queues many jobs: pipelined `addBulk`s per task type, of at most ENQUEUE_CHUNK jobs each,
   * all sent at once: Redis adds the first chunk's jobs while the next chunk is being built.
   */
  async enqueueMany(specs: TaskJobSpec[]): Promise<void> {
    const byType = new Map<TaskType, TaskJobSpec[]>();
    for (const spec of specs) {
      const group = byType.get(spec.data.type);
      if (group) group.push(spec);
      else byType.set(spec.data.type, [spec]);
    }
    const sending: Array<Promise<unknown>> = [];
    for (const [type, group] of byType) {
      for (let start = 0; start < group.length; start += ENQUEUE_CHUNK) {
        const chunk = group.slice(start, start + ENQUEUE_CHUNK);
        sending.push(this.add(type, chunk));
      }
    }
    try {
      await Promise.all(sending);
    } catch (error) {
      throw new QueueUnavailableError(`could not queue ${specs.length} tasks: ${(error as Error).message}`);
    }
  }

  /**
   * Replaces the tasks' jobs with new ones: BullMQ ignores an add under an existing job id, so
   * an old job (finished, or waiting) is removed first. A job a worker holds is left, and not replaced.
   */
  async replaceJobs(specs: TaskJobSpec[]): Promise<void> {
    try {
      await Promise.all(specs.map((spec) => (tracingEnabled() ? this.removeFollowing(spec) : this.queue(spec.data.type).remove(spec.data.taskId))));
    } catch (error) {
      throw new QueueUnavailableError(`could not remove the old jobs of ${specs.length} tasks: ${(error as Error).message}`);
    }
    await this.enqueueMany(specs);
  }

  /** Removes a spec's old job, and has the new one's send span link to the old one's trace. */
  private async removeFollowing(spec: TaskJobSpec): Promise<void> {
    const queue = this.queue(spec.data.type);
    const old = await queue.getJob(spec.data.taskId);
    spec.follows = (old?.data as TaskJobData | undefined)?.trace;
    await queue.remove(spec.data.taskId);
  }

  /** Where each task's job stands: one pipeline per queue, as a Redis Cluster keeps each queue's keys on one slot. */
  async jobPresence(tasks: Array<{ id: string; type: TaskType }>): Promise<JobPresence[]> {
    const presence = new Array<JobPresence>(tasks.length);
    const byType = new Map<TaskType, number[]>();
    tasks.forEach((task, index) => {
      const indexes = byType.get(task.type);
      if (indexes) indexes.push(index);
      else byType.set(task.type, [index]);
    });
    await Promise.all(
      [...byType].map(async ([type, indexes]) => {
        const pipeline = this.connection.pipeline();
        for (const index of indexes) {
          const key = this.queue(type).toKey(tasks[index]?.id ?? '');
          pipeline.exists(key);
          pipeline.hget(key, 'finishedOn');
        }
        const replies = (await pipeline.exec()) ?? [];
        indexes.forEach((taskIndex, position) => {
          const [existsError, exists] = replies[2 * position] ?? [new Error('no reply from Redis')];
          const [finishedError, finishedOn] = replies[2 * position + 1] ?? [new Error('no reply from Redis')];
          if (existsError || finishedError) throw existsError ?? finishedError;
          presence[taskIndex] = exists === 0 ? 'missing' : finishedOn ? 'finished' : 'present';
        });
      }),
    );
    return presence;
  }

  /** The ids of the jobs waiting in a type's queue (waiting, paused, prioritized, delayed), `pageSize` at a time. */
  async *waitingJobIds(type: TaskType, pageSize: number): AsyncGenerator<string[]> {
    const queue = this.queue(type);
    for (const state of [...WAITING_LISTS, ...WAITING_SETS]) {
      const key = queue.toKey(state);
      const list = (WAITING_LISTS as readonly string[]).includes(state);
      for (let start = 0; ; start += pageSize) {
        const stop = start + pageSize - 1;
        const ids = list ? await this.connection.lrange(key, start, stop) : await this.connection.zrange(key, start, stop);
        if (ids.length > 0) yield ids;
        if (ids.length < pageSize) break;
      }
    }
  }

  /**
   * Removes waiting jobs whose tasks are finished or gone. A job added at or after
   * `addedBefore` (ms) is kept: it may belong to a requeue that is still under way. Returns
   * the ids removed.
   */
  async removeStaleJobs(type: TaskType, ids: string[], addedBefore: number): Promise<string[]> {
    const queue = this.queue(type);
    const removed: string[] = [];
    for (const id of ids) {
      const addedAt = Number(await this.connection.hget(queue.toKey(id), 'timestamp'));
      if (!Number.isFinite(addedAt) || addedAt === 0 || addedAt >= addedBefore) continue;
      if ((await queue.remove(id)) === 1) removed.push(id);
    }
    return removed;
  }

  /**
   * Takes a task's job out of its queue. `locked`: a worker is running it right now.
   * A job that is not there (finished and cleaned up, or lost with Redis) counts as removed.
   * `onTrace` gets the trace context the removed job carried (only with tracing on), for the
   * job that replaces it to link to.
   */
  async removeJob(type: TaskType, taskId: string, onTrace?: (trace: TraceCarrier) => void): Promise<'removed' | 'locked'> {
    try {
      const job = await this.queue(type).getJob(taskId);
      if (!job) return 'removed';
      if ((await job.getState()) === 'active') return 'locked';
      const trace = (job.data as TaskJobData).trace;
      if (trace && onTrace) onTrace(trace);
      await job.remove();
      return 'removed';
    } catch (error) {
      if (/locked/i.test((error as Error).message)) return 'locked';
      throw new QueueUnavailableError(`could not remove the job of task ${taskId}: ${(error as Error).message}`);
    }
  }

  /** Tells every worker to abort the running attempt of this task (see {@link CancelSubscriber}). */
  async broadcastCancel(taskId: string): Promise<void> {
    try {
      await this.connection.publish(cancelChannel(this.prefix), taskId);
    } catch (error) {
      throw new QueueUnavailableError(`could not signal the cancellation of task ${taskId}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    // Jobs already handed over go out first.
    this.sendGathered();
    while (this.flights.size > 0) await Promise.all(this.flights);
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
