import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { MonitorConfig } from '@taskq/config';
import type { Redis } from 'ioredis';
import { DeadLetterMirror, createRedisConnection } from '@taskq/queue';
import { MAINTENANCE_QUEUE, RETENTION_JOB, RETENTION_SCHEDULER_ID } from './maintenance-queue';
import { RetentionProcessor, type RetentionRun } from './retention-processor';

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
  private connection?: Redis;
  private queue?: Queue;
  private worker?: Worker;
  private timer?: NodeJS.Timeout;
  private restoring?: Promise<void>;

  constructor(
    private readonly processor: RetentionProcessor,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { redisUrl, queuePrefix: prefix, retentionCron } = this.config;
    // Shared by the queue and the worker; the worker opens a duplicate for its blocking reads.
    this.connection = createRedisConnection(redisUrl, 'worker');
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: this.connection, prefix });
    this.queue.on('error', () => undefined);
    await this.upsertScheduler();
    this.timer = setInterval(() => (this.restoring ??= this.restoreScheduler().finally(() => (this.restoring = undefined))), this.config.scheduleSyncIntervalMs);
    this.worker = new Worker(MAINTENANCE_QUEUE, (job: Job) => this.process(job), {
      connection: this.connection,
      prefix,
      concurrency: 1,
    });
    this.worker.on('error', (error) => this.logger.error(`maintenance worker: ${error.message}`));
    this.worker.on('failed', (job, error) => {
      const attempts = `attempt ${job?.attemptsMade ?? '?'} of ${job?.opts.attempts ?? 1}`;
      this.logger.error(`${job?.name ?? 'maintenance'} job failed (${attempts}): ${error.message}`);
    });
    this.logger.log(`retention runs on "${retentionCron}" (UTC): removes tasks finished more than ${this.config.retentionDays} days ago`);
  }

  /** Stops after the current batch of a running clean-up, within SHUTDOWN_TIMEOUT_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.restoring;
    this.processor.stop();
    if (this.worker) {
      let timer: NodeJS.Timeout | undefined;
      const closed = this.worker.close().then(() => true);
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.config.shutdownTimeoutMs)));
      const inTime = await Promise.race([closed, late]);
      clearTimeout(timer);
      if (!inTime) {
        this.logger.warn(`the retention job still runs after ${this.config.shutdownTimeoutMs} ms: closing anyway; its lock expires and it is retried`);
        await this.worker.close(true);
      }
    }
    await this.queue?.close();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
    await this.deadLetters.close();
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
