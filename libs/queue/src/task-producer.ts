import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
import { cancelChannel } from './cancel-channel';
import { queueNameFor } from './queue-names';
import { jobOptionsFor, type TaskJobSpec } from './task-job';

/** Redis refused or did not answer: the caller answers 503 and nothing is left half-queued. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** Adds task jobs to their type's queue. One Queue object per type, sharing one connection. */
export class TaskProducer {
  private readonly queues = new Map<TaskType, Queue>();

  constructor(
    private readonly connection: Redis,
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

  async enqueue(spec: TaskJobSpec): Promise<void> {
    try {
      await this.queue(spec.data.type).add(spec.data.type, spec.data, jobOptionsFor(spec));
    } catch (error) {
      throw new QueueUnavailableError(`could not queue task ${spec.data.taskId}: ${(error as Error).message}`);
    }
  }

  /** Queues many jobs: one pipelined `addBulk` per task type. */
  async enqueueMany(specs: TaskJobSpec[]): Promise<void> {
    const byType = new Map<TaskType, TaskJobSpec[]>();
    for (const spec of specs) byType.set(spec.data.type, [...(byType.get(spec.data.type) ?? []), spec]);
    try {
      await Promise.all(
        [...byType].map(([type, group]) =>
          this.queue(type).addBulk(group.map((spec) => ({ name: type, data: spec.data, opts: jobOptionsFor(spec) }))),
        ),
      );
    } catch (error) {
      throw new QueueUnavailableError(`could not queue ${specs.length} tasks: ${(error as Error).message}`);
    }
  }

  /**
   * Takes a task's job out of its queue. `locked`: a worker is running it right now.
   * A job that is not there (finished and cleaned up, or lost with Redis) counts as removed.
   */
  async removeJob(type: TaskType, taskId: string): Promise<'removed' | 'locked'> {
    try {
      const job = await this.queue(type).getJob(taskId);
      if (!job) return 'removed';
      if ((await job.getState()) === 'active') return 'locked';
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
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
