import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { WorkerConfig } from '@taskq/config';
import { createRedisConnection, queueNameFor, settlesWithin, taskBackoffStrategy, type TaskJobData } from '@taskq/queue';
import { RunningAttempts } from './running-attempts';
import { RetryableAttemptError, TaskRunner } from './task-runner';
import { selectQueues } from './worker-selection';
import { STOPPING_GRACE_MS } from './write-when-stored';
import { throttledLog } from '@taskq/observability';

/** One BullMQ Worker per task type this process serves. */
@Injectable()
export class QueueWorkersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Workers');
  private readonly workers: Worker[] = [];

  constructor(
    private readonly runner: TaskRunner,
    private readonly attempts: RunningAttempts,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const { type, concurrency } of selectQueues(this.config)) {
      const worker = new Worker<TaskJobData>(queueNameFor(type), (job: Job<TaskJobData>, token?: string) => this.runner.run(job, token), {
        connection: createRedisConnection(this.config.redisUrl, 'worker'),
        prefix: this.config.queuePrefix,
        concurrency,
        // A worker that dies without shutting down keeps its jobs until their locks expire;
        // then another worker takes them again, and PostgreSQL records the cut-short run as
        // lost, charged to the task's budget. BullMQ's own stall counter would fail the job
        // without telling PostgreSQL: taskq decides instead, so BullMQ always puts it back.
        lockDuration: this.config.lockDurationMs,
        stalledInterval: this.config.lockDurationMs,
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        settings: {
          // The runner has already drawn (and recorded) the jittered delay: reuse it.
          backoffStrategy: (attemptsMade, backoffType, error, job) =>
            error instanceof RetryableAttemptError ? error.retryDelayMs : taskBackoffStrategy(attemptsMade, backoffType, error, job),
        },
      });
      const logError = throttledLog((message) => this.logger.error(message));
      worker.on('error', (error) => logError(`${type} worker: ${error.message}`));
      this.workers.push(worker);
      this.logger.log(`serving ${type} (concurrency ${concurrency})`);
    }
  }

  get running(): boolean {
    return this.workers.length > 0 && this.workers.every((worker) => worker.isRunning());
  }

  /**
   * Stops taking jobs and lets active ones finish, up to SHUTDOWN_TIMEOUT_MS. Attempts still
   * running then are interrupted: recorded, and their jobs handed back to the queue for
   * another worker without spending an attempt. Runs before any onApplicationShutdown hook,
   * where handlers close their clients and the store its pool.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const closed = Promise.all(this.workers.map((worker) => worker.close()));
    if (!(await settlesWithin(closed, this.config.shutdownTimeoutMs))) {
      const interrupted = this.attempts.interruptAll();
      this.logger.warn(`shutdown deadline (${this.config.shutdownTimeoutMs} ms): handing ${interrupted} running attempt(s) back to the queue`);
      if (!(await settlesWithin(closed, RELEASE_GRACE_MS))) {
        this.logger.error(`attempts could not be handed back within ${RELEASE_GRACE_MS} ms: closing anyway; their locks expire and another worker takes them`);
        await Promise.all(this.workers.map((worker) => worker.close(true)));
      }
    }
    await Promise.all(this.workers.map((worker) => worker.disconnect().catch(() => undefined)));
  }
}

/** Long enough for interrupted attempts to be recorded, or handed back with their records once PostgreSQL's grace is over. */
const RELEASE_GRACE_MS = STOPPING_GRACE_MS + 10_000;
