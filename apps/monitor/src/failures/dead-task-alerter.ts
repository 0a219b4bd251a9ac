import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MonitorConfig } from '@taskq/config';
import { TaskQueries, type DeadTaskSummary } from '@taskq/persistence';
import { AlertBatcher } from './alert-batcher';
import { deadTaskAlert, type DeadTaskAlert } from './dead-task-alert';
import { FAILURES_REDIS } from './failures-redis';
import { WebhookAlertSender, describeWebhook } from './webhook-alert-sender';

/**
 * WARNING: stored in Redis.
 * - A claim per dead task and time of death: the replica that sets it first alerts the task,
 *   so several monitor replicas send one alert. Kept longer than the catch-up window.
 * - The alert slot: taken for ALERT_INTERVAL_MS before each request, so all replicas (and a
 *   restarted monitor) together send at most one request per interval.
 * - The time up to which a running monitor watched for dead tasks: the next monitor to start
 *   alerts the tasks that died after it (catch-up).
 */
const claimKey = (prefix: string, task: DeadTaskSummary): string => `${prefix}:{monitor}:dead-alerted:${task.id}:${task.finishedAt.getTime()}`;
const alertSlotKey = (prefix: string): string => `${prefix}:{monitor}:alert-slot`;
const watchedUntilKey = (prefix: string): string => `${prefix}:{monitor}:watched-until`;
const CLAIM_TTL_SECONDS = 48 * 3_600;

/** How often a running monitor records that it is watching. */
const WATCHING_MARK_MS = 10_000;
/** Catch-up looks this far before the mark: events are handled a little after the death. */
const CATCH_UP_MARGIN_MS = 60_000;
/** Catch-up never looks further back than this, however long no monitor ran. */
const MAX_CATCH_UP_MS = 24 * 3_600_000;

/**
 * Sends dead tasks to ALERT_WEBHOOK_URL in batches (see {@link AlertBatcher}): at most one
 * request per ALERT_INTERVAL_MS, failed deliveries retried. Without a URL it does nothing.
 */
@Injectable()
export class DeadTaskAlerter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private readonly batcher?: AlertBatcher<DeadTaskAlert>;
  /** The webhook's origin, for logs (its path may hold a token). */
  private readonly target?: string;
  private watchingMark?: NodeJS.Timeout;

  constructor(
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
    private readonly queries: TaskQueries,
    @Inject(FAILURES_REDIS) private readonly redis: Redis,
  ) {
    const url = config.alertWebhookUrl;
    if (!url) return;
    const sender = new WebhookAlertSender(url, config.alertTimeoutMs);
    const target = describeWebhook(url);
    this.target = target;
    this.batcher = new AlertBatcher<DeadTaskAlert>(
      (batch) => sender.send({ source: 'taskq', dead: batch.entries, count: batch.entries.length, dropped: batch.dropped }),
      {
        intervalMs: config.alertIntervalMs,
        capacity: config.alertBufferSize,
        gatherMs: Math.min(1_000, config.alertIntervalMs),
        maxRetryDelayMs: Math.max(config.alertIntervalMs, 15 * 60_000),
        reserveSlot: () => this.reserveSlot(),
      },
      {
        delivered: (batch) =>
          this.logger.log(`alerted ${target} of ${batch.entries.length} dead task(s)${batch.dropped ? ` (and ${batch.dropped} dropped from a full buffer)` : ''}`),
        failed: (error, batch, retryInMs) =>
          this.logger.warn(`alert of ${batch.entries.length} dead task(s) not delivered (${error.message}); next try in ${retryInMs} ms`),
      },
    );
  }

  /**
   * Queues for alerting the dead tasks that died while no monitor was watching (since the
   * last one's mark, at most 24 h back), then starts marking. Runs before the events are read.
   */
  async catchUp(): Promise<void> {
    if (!this.batcher) {
      this.logger.log('ALERT_WEBHOOK_URL is not set: dead tasks are logged, not alerted');
      return;
    }
    this.logger.log(`dead tasks are alerted to ${this.target}, at most one request every ${this.config.alertIntervalMs} ms`);
    try {
      const watchedUntil = Number(await this.redis.get(watchedUntilKey(this.config.queuePrefix)));
      if (watchedUntil > 0) {
        const from = new Date(Math.max(watchedUntil - CATCH_UP_MARGIN_MS, Date.now() - MAX_CATCH_UP_MS));
        const capacity = this.config.alertBufferSize;
        const dead = await this.queries.deadTasksSince(from, capacity + 1);
        let queued = 0;
        for (const task of dead.slice(0, capacity)) if (await this.notify(task)) queued++;
        if (queued > 0) this.logger.log(`${queued} dead task(s) that died while no monitor was watching (since ${from.toISOString()}) will be alerted`);
        if (dead.length > capacity) this.logger.warn(`more than ${capacity} dead tasks since ${from.toISOString()}: only the first ${capacity} are alerted, see GET /dlq`);
      }
    } catch (error) {
      this.logger.warn(`could not look for dead tasks missed while no monitor was watching: ${(error as Error).message}`);
    }
    await this.markWatching();
    this.watchingMark = setInterval(() => void this.markWatching(), WATCHING_MARK_MS);
    this.watchingMark.unref();
  }

  /** Queues a dead task for the next alert, unless another replica already has. Resolves whether it did. */
  async notify(task: DeadTaskSummary): Promise<boolean> {
    if (!this.batcher || !(await this.claim(task))) return false;
    this.batcher.add(deadTaskAlert(task));
    return true;
  }

  /** Runs after the event watchers stopped: one last delivery within SHUTDOWN_TIMEOUT_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.watchingMark);
    if (!this.batcher) return;
    if (this.watchingMark) await this.markWatching();
    const { entries, dropped } = await this.batcher.close(Date.now() + this.config.shutdownTimeoutMs);
    if (entries.length > 0 || dropped > 0) {
      this.logger.error(
        `${entries.length + dropped} dead-task alert(s) not delivered before shutdown${entries.length ? `: ${entries.map((e) => e.id).join(', ')}` : ''} (see GET /dlq)`,
      );
    }
  }

  private async claim(task: DeadTaskSummary): Promise<boolean> {
    try {
      return (await this.redis.set(claimKey(this.config.queuePrefix, task), '1', 'EX', CLAIM_TTL_SECONDS, 'NX')) === 'OK';
    } catch (error) {
      // Better twice than never: without Redis no replica can tell whether another alerted it.
      this.logger.warn(`could not claim the alert of task ${task.id} (${(error as Error).message}): alerting it anyway`);
      return true;
    }
  }

  /** 0 when this process may send now (the slot is taken for one interval), else how long to wait. */
  private async reserveSlot(): Promise<number> {
    const key = alertSlotKey(this.config.queuePrefix);
    try {
      if ((await this.redis.set(key, '1', 'PX', this.config.alertIntervalMs, 'NX')) === 'OK') return 0;
      const ttl = await this.redis.pttl(key);
      return ttl > 0 ? ttl : 10;
    } catch (error) {
      this.logger.warn(`could not take the alert slot (${(error as Error).message}): sending anyway`);
      return 0;
    }
  }

  private async markWatching(): Promise<void> {
    await this.redis.set(watchedUntilKey(this.config.queuePrefix), String(Date.now())).catch(() => undefined);
  }
}
