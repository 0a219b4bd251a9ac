import { Injectable } from '@nestjs/common';
import { ApiConfig, StartupFailure } from '@taskq/config';
import { TASK_TYPE_NAMES, isTaskType, type TaskType } from '@taskq/contracts';
import { TaskProducer } from '@taskq/queue';
import { ProblemException, problemType } from '../errors/problem.exception';

/** A queue's backlog is read at most this often per type: a submission does not pay a Redis round trip. */
const BACKLOG_CACHE_MS = 1_000;

/** `100000,email=5000` → the limit of every type (0 = none). */
export function parseBacklogLimits(value: string): Map<TaskType, number> {
  const [all = '0', ...overrides] = value.split(',');
  const limits = new Map<TaskType, number>(TASK_TYPE_NAMES.map((type) => [type, Number(all)]));
  for (const pair of overrides) {
    const [type = '', limit = ''] = pair.split('=');
    if (!isTaskType(type)) throw new StartupFailure(`MAX_BACKLOG names an unknown task type: ${type} (known: ${TASK_TYPE_NAMES.join(', ')})`);
    limits.set(type, Number(limit));
  }
  return limits;
}

/**
 * Backpressure: while a type's queue holds more waiting jobs than MAX_BACKLOG allows, its
 * submissions get 503 with Retry-After instead of growing Redis without bound.
 */
@Injectable()
export class BacklogGate {
  private readonly limits: Map<TaskType, number>;
  private readonly readings = new Map<TaskType, { at: number; backlog: Promise<number> }>();

  constructor(
    private readonly producer: TaskProducer,
    config: ApiConfig,
  ) {
    this.limits = parseBacklogLimits(config.maxBacklog);
  }

  /** Throws a 503 problem when adding `adding[type]` jobs would take a queue over its limit. */
  async admit(adding: Map<TaskType, number>): Promise<void> {
    for (const [type, count] of adding) {
      const limit = this.limits.get(type) ?? 0;
      if (limit <= 0) continue;
      const backlog = await this.backlog(type);
      if (backlog + count > limit) {
        // Its Retry-After is every 503's (see sendProblem).
        throw new ProblemException({
          type: problemType('backlog-full'),
          title: 'Queue backlog full',
          status: 503,
          detail: `The ${type} queue holds ${backlog} waiting tasks (limit ${limit}): submit again later.`,
        });
      }
    }
  }

  private backlog(type: TaskType): Promise<number> {
    const reading = this.readings.get(type);
    if (reading && Date.now() - reading.at < BACKLOG_CACHE_MS) return reading.backlog;
    // Unknown backlog (Redis down): let the submission go on; queueing it will answer 503 itself.
    const backlog = this.producer
      .queue(type)
      .getJobCounts('wait', 'prioritized', 'delayed')
      .then((counts) => Object.values(counts).reduce((sum, n) => sum + n, 0))
      .catch(() => 0);
    this.readings.set(type, { at: Date.now(), backlog });
    return backlog;
  }
}
