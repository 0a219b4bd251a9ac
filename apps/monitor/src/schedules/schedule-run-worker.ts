import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Worker } from 'bullmq';
import type { RedisConnection } from '@taskq/queue';
import { MonitorConfig } from '@taskq/config';
import { SCHEDULES_QUEUE, createRedisConnection, settlesWithin, type ScheduleRunData } from '@taskq/queue';
import { ScheduleRunner, type RunOutcome } from './schedule-runner';
import { throttledLog } from '@taskq/observability';

/** Runs are short (one read, one insert, one job): a few at once is plenty. */
const CONCURRENCY = 4;

/** The BullMQ worker that takes the schedules' run jobs. */
@Injectable()
export class ScheduleRunWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private connection?: RedisConnection;
  private worker?: Worker<ScheduleRunData, RunOutcome>;

  constructor(
    private readonly config: MonitorConfig,
    private readonly runner: ScheduleRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = createRedisConnection(this.config.redisUrl, 'worker');
    this.worker = new Worker<ScheduleRunData, RunOutcome>(SCHEDULES_QUEUE, (job) => this.runner.run(job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: CONCURRENCY,
    });
    this.worker.on('completed', (job, outcome) => {
      if ('skipped' in outcome) this.logger.debug(`run ${job.id ?? '?'} skipped: ${outcome.skipped}`);
    });
    this.worker.on('failed', (job, error) => this.logger.warn(`run ${job?.id ?? '?'} of schedule ${job?.data.schedule ?? '?'} failed: ${error.message}`));
    const logError = throttledLog((message) => this.logger.warn(message));
    this.worker.on('error', (error) => logError(`schedule worker: ${error.message}`));
  }

  /**
   * Before the pool closes: the run in progress finishes its writes, for up to
   * SHUTDOWN_TIMEOUT_MS (BullMQ's close waits for Redis as long as Redis is away). A run cut
   * short keeps its lock until it expires, and is then run again: its task's idempotency key
   * keeps that from creating a second task.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.worker && !(await settlesWithin(this.worker.close(), this.config.shutdownTimeoutMs))) {
      this.logger.warn(`the schedule worker did not stop within ${this.config.shutdownTimeoutMs} ms (Redis away?): stopping anyway`);
    }
    // Nothing is left to send on it, and a QUIT could wait for Redis as long as any command.
    this.connection?.disconnect();
  }
}
