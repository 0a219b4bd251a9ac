import { getTaskType, type TaskType } from '@taskq/contracts';

/**
 * BullMQ queue name of a task type. The braces are a Redis Cluster hash tag: every key of
 * one queue lands on one slot (BullMQ's scripts need that) while different queues spread
 * over the shards.
 * WARNING: queue names are stored in Redis. Renaming strands the jobs already queued.
 */
export function queueNameFor(type: TaskType): string {
  return `{${getTaskType(type).queue}}`;
}
