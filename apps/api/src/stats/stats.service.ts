import { Injectable } from '@nestjs/common';
import { QUEUE_DEPTH_STATES, TASK_TYPE_NAMES, type QueueDepthView, type TaskStatsView, type TaskType } from '@taskq/contracts';
import { StatsTimeoutError, TaskStatsStore, isStoreUnavailable, type StatsWindow, type TaskStatsReading } from '@taskq/persistence';
import { TaskProducer, countJobs } from '@taskq/queue';
import { ProblemException } from '../errors/problem.exception';
import { statsWindowEndingAt, toTaskStatsView } from './task-stats-view';

/** As long as /metrics waits for a queue's depth: a hung Redis costs a request no more. */
const DEPTH_TIMEOUT_MS = 1_000;

/**
 * The figures of `GET /stats`: each task type's queue depth now (Redis) and its recent
 * history (PostgreSQL), read at the same time. Either store away is a 503 naming it: a page of
 * figures with holes in it would read as zeros.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly history: TaskStatsStore,
    private readonly producer: TaskProducer,
  ) {}

  /** `tenant`: whose tasks the history counts (undefined: every tenant's). Queue depths are the queues', shared by every tenant. */
  async stats(windowMinutes: number, tenant: string | undefined, now = new Date()): Promise<TaskStatsView> {
    const window: StatsWindow = { ...statsWindowEndingAt(now, windowMinutes), ...(tenant === undefined ? {} : { tenant }) };
    const [depths, history] = await Promise.all([this.depths(), this.historyOf(window)]);
    return toTaskStatsView({ window, windowMinutes, depths, history });
  }

  private async depths(): Promise<Map<TaskType, QueueDepthView>> {
    try {
      return new Map(await Promise.all(TASK_TYPE_NAMES.map(async (type) => [type, await countJobs(this.producer.queue(type), QUEUE_DEPTH_STATES, DEPTH_TIMEOUT_MS)] as const)));
    } catch (error) {
      throw ProblemException.unavailable('The queue (Redis) is unavailable, so the queue depths are unknown. Retry later.', error);
    }
  }

  private async historyOf(window: StatsWindow): Promise<TaskStatsReading> {
    try {
      return await this.history.read(window);
    } catch (error) {
      if (error instanceof StatsTimeoutError) {
        throw ProblemException.unavailable('The figures of this window took too long to compute (the database is busy). Retry later, or ask for a shorter windowMinutes.', error);
      }
      if (isStoreUnavailable(error)) throw ProblemException.unavailable('The task store (PostgreSQL) is unavailable, so the task history is unknown. Retry later.', error);
      throw error;
    }
  }
}
