import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import type { RedisConnection } from '@taskq/queue';
import { MonitorConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
import { createRedisConnection, queueNameFor, settlesWithin } from '@taskq/queue';
import { DeadTaskAlerter } from './dead-task-alerter';
import { FAILURES_REDIS } from './failures-redis';
import { FailureReporter } from './failure-reporter';

/**
 * Reads the event stream of every task queue. What BullMQ 6 writes there when the worker
 * throws (commands/moveToDelayed, retryJob, moveToFinished):
 * - a retry with a delay: `delayed` (no `failed` event; a job added with a delay sends one too);
 * - a retry without delay: `waiting` with `prev: 'active'`;
 * - no retry (attempts spent, or UnrecoverableError: permanent failure or cancellation):
 *   `failed` with the reason, then `retries-exhausted` if the attempts were spent.
 * None of them says whether an attempt failed or the task is dead: {@link FailureReporter}
 * asks PostgreSQL, where the worker committed the outcome before BullMQ moved the job.
 */
@Injectable()
export class QueueFailureWatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('QueueEvents');
  private readonly watchers: QueueEvents[] = [];
  private lastWarningAt = 0;
  /** Never connects itself: each QueueEvents opens (and closes) a duplicate, as its XREAD blocks. */
  private readonly connectionTemplate: RedisConnection;

  constructor(
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
    private readonly reporter: FailureReporter,
    private readonly alerter: DeadTaskAlerter,
    @Inject(FAILURES_REDIS) private readonly redis: RedisConnection,
  ) {
    this.connectionTemplate = createRedisConnection(config.redisUrl, 'worker', { lazyConnect: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Stream ids are Redis server times. Reading from "now" on, and catching up from PostgreSQL
    // only after taking "now", leaves no gap between the two.
    const [seconds, microseconds] = await this.redis.time();
    const from = `${Number(seconds) * 1_000 + Math.floor(Number(microseconds) / 1_000)}-0`;
    await this.alerter.catchUp();
    for (const type of TASK_TYPE_NAMES) this.watch(type, from);
    this.logger.log(`watching failed attempts and dead tasks on ${TASK_TYPE_NAMES.length} queues`);
  }

  /**
   * Runs before the reporter's hook (it depends on the reporter): no event arrives after this.
   * QueueEvents#close waits for Redis while Redis is away: after SHUTDOWN_TIMEOUT_MS the
   * shutdown goes on without them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const closed = Promise.all(this.watchers.map((events) => events.close().catch(() => undefined)));
    if (!(await settlesWithin(closed, this.config.shutdownTimeoutMs))) {
      // Their disconnect waits for Redis too: not awaited, the process exits after the hooks.
      this.logger.warn(`the queue event readers did not stop within ${this.config.shutdownTimeoutMs} ms (Redis away?): leaving them`);
      for (const events of this.watchers) void events.disconnect().catch(() => undefined);
    }
    this.connectionTemplate.disconnect();
  }

  private watch(type: TaskType, from: string): void {
    const events = new QueueEvents(queueNameFor(type), {
      connection: this.connectionTemplate,
      prefix: this.config.queuePrefix,
      lastEventId: from,
    });
    events.on('delayed', ({ jobId }) => this.reporter.report({ taskId: jobId, type }));
    events.on('waiting', ({ jobId, prev }) => {
      if (prev === 'active') this.reporter.report({ taskId: jobId, type });
    });
    events.on('failed', ({ jobId, failedReason }) => this.reporter.report({ taskId: jobId, type, failedReason }));
    events.on('error', (error) => {
      // Every reconnection attempt of every queue errs while Redis is down: one line a minute is enough.
      if (Date.now() - this.lastWarningAt < 60_000) return;
      this.lastWarningAt = Date.now();
      this.logger.warn(`reading the events of ${queueNameFor(type)}: ${error.message}`);
    });
    this.watchers.push(events);
  }
}
