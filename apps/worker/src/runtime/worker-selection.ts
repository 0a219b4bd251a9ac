import { StartupFailure, type WorkerConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, getTaskType, isTaskType, type TaskType } from '@taskq/contracts';

export interface QueueAssignment {
  type: TaskType;
  concurrency: number;
}

/** Which task types this process serves (`WORKER_QUEUES`) and how many jobs of each at once. */
export function selectQueues(config: Pick<WorkerConfig, 'workerQueues' | 'workerConcurrency'>): QueueAssignment[] {
  const requested = config.workerQueues.trim() === '*' ? TASK_TYPE_NAMES : config.workerQueues.split(',').map((name) => name.trim());
  const unknown = requested.filter((name) => !isTaskType(name));
  if (unknown.length) {
    throw new StartupFailure(`WORKER_QUEUES names unknown task types: ${unknown.join(', ')} (known: ${TASK_TYPE_NAMES.join(', ')})`);
  }
  const overrides = new Map<string, number>();
  for (const pair of config.workerConcurrency.split(',').filter(Boolean)) {
    const [name = '', value = ''] = pair.split('=');
    if (!isTaskType(name)) throw new StartupFailure(`WORKER_CONCURRENCY names an unknown task type: ${name}`);
    const concurrency = Number(value);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
      throw new StartupFailure(`WORKER_CONCURRENCY for ${name} must be an integer from 1 to 10000`);
    }
    overrides.set(name, concurrency);
  }
  return [...new Set(requested as TaskType[])].map((type) => ({ type, concurrency: overrides.get(type) ?? getTaskType(type).concurrency }));
}
