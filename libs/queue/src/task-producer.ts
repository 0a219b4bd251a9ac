import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
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

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
