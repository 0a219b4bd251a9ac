import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiConfig } from '@taskq/config';
import type { TaskType } from '@taskq/contracts';
import { TaskProducer } from '@taskq/queue';
import { ProblemException, problemType } from '../errors/problem.exception';

/** A queue's backlog is counted in Redis again once its count is this old (in the background). */
const BACKLOG_CACHE_MS = 1_000;

interface BacklogReading {
  /** The queue's waiting jobs, all replicas' together, as Redis last counted them. */
  counted: number;
  /** Jobs this replica admitted since that count was asked for. */
  added: number;
  /** When the count was asked for (ms). */
  at: number;
  /** The count being read now, if any. */
  refreshing?: Promise<void>;
}

/**
 * Backpressure: while a type's queue holds more waiting jobs than MAX_BACKLOG allows, its
 * submissions get 503 with Retry-After instead of growing Redis without bound.
 * A submission does not pay a Redis round trip: the backlog is the queue's count in Redis
 * (read again in the background once it is older than a second) plus the jobs this replica
 * admitted since, so a burst on one replica is held at the limit, and other replicas' jobs
 * count within a second. The first counts are asked for at start-up, so that no request
 * waits for one (with Redis hung, that wait would stamp a task well before its commit).
 */
@Injectable()
export class BacklogGate implements OnApplicationBootstrap {
  private readonly limits: ReadonlyMap<TaskType, number>;
  private readonly readings = new Map<TaskType, BacklogReading>();

  constructor(
    private readonly producer: TaskProducer,
    config: ApiConfig,
  ) {
    this.limits = config.backlogLimits;
  }

  onApplicationBootstrap(): void {
    for (const [type, limit] of this.limits) if (limit > 0) void this.refresh(type);
  }

  /**
   * Throws a 503 problem when adding `count` jobs would take the queue of `type` over its
   * limit; else counts them as added. Waits only for a type's very first count.
   */
  admit(type: TaskType, count = 1): void | Promise<void> {
    if ((this.limits.get(type) ?? 0) <= 0) return;
    if (!this.counted(type)) return this.refresh(type).then(() => this.admit(type, count));
    this.refreshIfOld(type);
    this.check(type, count);
    this.add(type, count);
  }

  /** Admits a bulk request's jobs, every type's or none. */
  async admitAll(adding: Map<TaskType, number>): Promise<void> {
    const limited = [...adding].filter(([type]) => (this.limits.get(type) ?? 0) > 0);
    for (const [type] of limited) if (!this.counted(type)) await this.refresh(type);
    for (const [type] of limited) this.refreshIfOld(type);
    for (const [type, count] of limited) this.check(type, count);
    for (const [type, count] of limited) this.add(type, count);
  }

  private counted(type: TaskType): boolean {
    const reading = this.readings.get(type);
    return reading !== undefined && reading.at > Number.NEGATIVE_INFINITY;
  }

  private check(type: TaskType, count: number): void {
    const limit = this.limits.get(type) ?? 0;
    const reading = this.readings.get(type) as BacklogReading;
    const backlog = reading.counted + reading.added;
    if (backlog + count <= limit) return;
    // Its Retry-After is every 503's (see sendProblem).
    throw new ProblemException({
      type: problemType('backlog-full'),
      title: 'Queue backlog full',
      status: 503,
      detail: `The ${type} queue holds ${backlog} waiting tasks (limit ${limit}): submit again later.`,
    });
  }

  private add(type: TaskType, count: number): void {
    (this.readings.get(type) as BacklogReading).added += count;
  }

  private refreshIfOld(type: TaskType): void {
    if (Date.now() - (this.readings.get(type) as BacklogReading).at >= BACKLOG_CACHE_MS) void this.refresh(type);
  }

  private refresh(type: TaskType): Promise<void> {
    const current = this.readings.get(type);
    if (current?.refreshing) return current.refreshing;
    const at = Date.now();
    const addedBefore = current?.added ?? 0;
    const refreshing = this.producer
      .queue(type)
      .getJobCounts('wait', 'prioritized', 'delayed')
      .then((counts) => Object.values(counts).reduce((sum, n) => sum + n, 0))
      // Unknown backlog (Redis down): let submissions go on; queueing them will answer 503 itself.
      .catch(() => 0)
      .then((counted) => {
        // The count includes what this replica added before asking; what it added since, it does not.
        const added = (this.readings.get(type)?.added ?? 0) - addedBefore;
        this.readings.set(type, { counted, added, at });
      });
    if (current) current.refreshing = refreshing;
    else this.readings.set(type, { counted: 0, added: 0, at: Number.NEGATIVE_INFINITY, refreshing });
    return refreshing;
  }
}
