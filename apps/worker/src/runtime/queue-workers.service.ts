import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { WorkerConfig } from '@taskq/config';
import { createRedisConnection, queueNameFor, taskBackoffStrategy, type TaskJobData } from '@taskq/queue';
import { RetryableAttemptError, TaskRunner } from './task-runner';
import { selectQueues } from './worker-selection';

/** One BullMQ Worker per task type this process serves. */
@Injectable()
export class QueueWorkersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Workers');
  private readonly workers: Worker[] = [];

  constructor(
    private readonly runner: TaskRunner,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const { type, concurrency } of selectQueues(this.config)) {
      const worker = new Worker<TaskJobData>(queueNameFor(type), (job: Job<TaskJobData>) => this.runner.run(job), {
        connection: createRedisConnection(this.config.redisUrl, 'worker'),
        prefix: this.config.queuePrefix,
        concurrency,
        settings: {
          // The runner has already drawn (and recorded) the jittered delay: reuse it.
          backoffStrategy: (attemptsMade, backoffType, error, job) =>
            error instanceof RetryableAttemptError ? error.retryDelayMs : taskBackoffStrategy(attemptsMade, backoffType, error, job),
        },
      });
      worker.on('error', (error) => this.logger.error(`${type} worker: ${error.message}`));
      this.workers.push(worker);
      this.logger.log(`serving ${type} (concurrency ${concurrency})`);
    }
  }

  get running(): boolean {
    return this.workers.length > 0 && this.workers.every((worker) => worker.isRunning());
  }

  /**
   * Stops taking jobs and lets active ones finish, up to SHUTDOWN_TIMEOUT_MS. Runs before any
   * onApplicationShutdown hook, where handlers close their clients and the store its pool.
   */
  async beforeApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceful = Promise.all(this.workers.map((worker) => worker.close())).then(() => true);
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.config.shutdownTimeoutMs);
    });
    const finished = await Promise.race([graceful, deadline]);
    clearTimeout(timer);
    if (!finished) {
      this.logger.warn(`active jobs still running after ${this.config.shutdownTimeoutMs} ms: closing anyway; their locks expire and another worker takes them`);
      await Promise.all(this.workers.map((worker) => worker.close(true)));
    }
    await Promise.all(this.workers.map((worker) => worker.disconnect().catch(() => undefined)));
  }
}
