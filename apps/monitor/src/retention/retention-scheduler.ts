import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { MonitorConfig } from '@taskq/config';
import type { RedisConnection } from '@taskq/queue';
import { PRODUCER_REDIS, createRedisConnection, settlesWithin } from '@taskq/queue';
import { MAINTENANCE_QUEUE, RETENTION_JOB, RETENTION_SCHEDULER_ID } from './maintenance-queue';
import { RetentionProcessor, type RetentionRun } from './retention-processor';
import { throttledLog } from '@taskq/observability';

/** A failed clean-up is tried again this many times in all, 1 min then 2 min later. */
const RETENTION_ATTEMPTS = 3;
const RETENTION_RETRY_DELAY_MS = 60_000;

/**
 * Keeps a BullMQ job scheduler on the maintenance queue that adds a retention job on
 * RETENTION_CRON (UTC), and processes those jobs. The scheduler is upserted at every start,
 * so it follows a changed RETENTION_CRON, and re-created within SCHEDULE_SYNC_INTERVAL_MS
 * when Redis lost it; replicas upsert the same id, and each run is one job, processed by one
 * replica.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Retention');
  /** The worker's own: its blocking reads wait out a Redis outage. */
  private workerConnection?: RedisConnection;
  private queue?: Queue;
  private worker?: Worker;
  private timer?: NodeJS.Timeout;
  private restoring?: Promise<void>;

  constructor(
    private readonly processor: RetentionProcessor,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { redisUrl, queuePrefix: prefix, retentionCron } = this.config;
    // On the monitor's fail-fast connection: a scheduler check during an outage fails at once
    // (and waits for the next tick) instead of waiting for Redis.
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: this.redis, prefix, skipWaitingForReady: true });
    this.queue.on('error', () => undefined);
    await this.upsertScheduler();
    this.timer = setInterval(() => (this.restoring ??= this.restoreScheduler().finally(() => (this.restoring = undefined))), this.config.scheduleSyncIntervalMs);
    this.workerConnection = createRedisConnection(redisUrl, 'worker');
    this.worker = new Worker(MAINTENANCE_QUEUE, (job: Job) => this.process(job), {
      connection: this.workerConnection,
      prefix,
      concurrency: 1,
    });
    const logError = throttledLog((message) => this.logger.error(message));
    this.worker.on('error', (error) => logError(`maintenance worker: ${error.message}`));
    this.worker.on('failed', (job, error) => {
      const attempts = `attempt ${job?.attemptsMade ?? '?'} of ${job?.opts.attempts ?? 1}`;
      this.logger.error(`${job?.name ?? 'maintenance'} job failed (${attempts}): ${error.message}`);
    });
    this.logger.log(`retention runs on "${retentionCron}" (UTC): removes tasks finished more than ${this.config.retentionDays} days ago`);
  }

  /**
   * Stops after the current batch of a running clean-up, within SHUTDOWN_TIMEOUT_MS. Neither
   * a scheduler check nor the worker still waiting for Redis holds shutdown up for longer.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.processor.stop();
    const { shutdownTimeoutMs } = this.config;
    const [checked, closed] = await Promise.all([
      this.restoring ? settlesWithin(this.restoring, shutdownTimeoutMs) : true,
      this.worker ? settlesWithin(this.worker.close(), shutdownTimeoutMs) : true,
    ]);
    if (!checked) this.logger.warn(`the retention scheduler check got no answer from Redis within ${shutdownTimeoutMs} ms: stopping anyway`);
    if (!closed) {
      // worker.close(true) would only return the close under way: leave it.
      this.logger.warn(`the maintenance worker did not stop within ${shutdownTimeoutMs} ms (a clean-up still running, or Redis away): stopping anyway; a running job's lock expires and it is retried`);
    }
    await this.queue?.close();
    // Nothing is left to send on it, and a QUIT could wait for Redis as long as any command.
    this.workerConnection?.disconnect();
  }

  private async upsertScheduler(): Promise<void> {
    const { retentionCron } = this.config;
    await this.queue?.upsertJobScheduler(
      RETENTION_SCHEDULER_ID,
      { pattern: retentionCron, tz: 'UTC' },
      {
        name: RETENTION_JOB,
        data: {},
        opts: {
          attempts: RETENTION_ATTEMPTS,
          backoff: { type: 'exponential', delay: RETENTION_RETRY_DELAY_MS },
          removeOnComplete: { count: 100 },
          removeOnFail: { count: 100 },
        },
      },
    );
  }

  /** Re-creates the scheduler if Redis lost it (a restart without persistence); failures wait for the next tick. */
  private async restoreScheduler(): Promise<void> {
    try {
      if (await this.queue?.getJobScheduler(RETENTION_SCHEDULER_ID)) return;
      await this.upsertScheduler();
      this.logger.log('the retention scheduler was missing in Redis: registered it again');
    } catch (error) {
      this.logger.warn(`could not check the retention scheduler in Redis: ${(error as Error).message}`);
    }
  }

  private async process(job: Job): Promise<RetentionRun> {
    if (job.name !== RETENTION_JOB) throw new UnrecoverableError(`unknown maintenance job "${job.name}"`);
    return this.processor.run();
  }
}
