import { StartupFailure, type WorkerConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, getTaskType, isTaskType, type TaskType } from '@taskq/contracts';

export interface QueueAssignment {
  type: TaskType;
  concurrency: number;
}

/** Which task types this process serves (`WORKER_QUEUES`) and how many jobs of each at once. */
export function selectQueues(config: Pick<WorkerConfig, 'workerQueues' | 'concurrencyByType'>): QueueAssignment[] {
  const requested = config.workerQueues.trim() === '*' ? TASK_TYPE_NAMES : config.workerQueues.split(',').map((name) => name.trim());
  const unknown = requested.filter((name) => !isTaskType(name));
  if (unknown.length) {
    throw new StartupFailure(`WORKER_QUEUES names unknown task types: ${unknown.join(', ')} (known: ${TASK_TYPE_NAMES.join(', ')})`);
  }
  return [...new Set(requested as TaskType[])].map((type) => ({ type, concurrency: config.concurrencyByType.get(type) ?? getTaskType(type).concurrency }));
}
