import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';
import { MonitorConfig } from '@taskq/config';
import type { DeadTaskAlert } from '@taskq/contracts';
import { TaskQueries, type DeadTaskSummary } from '@taskq/persistence';
import { AlertBatcher } from './alert-batcher';
import { deadTaskAlert } from './dead-task-alert';
import { FAILURES_REDIS } from './failures-redis';
import { WebhookAlertSender, describeWebhook } from './webhook-alert-sender';

/**
 * WARNING: stored in Redis.
 * - A claim per dead task and time of death, taken when a request carrying it is sent (and
 *   given back if the request fails): several monitor replicas, which all hold every death
 *   until it is delivered, send one alert. Kept longer than the catch-up window.
 * - The alert slot: taken for ALERT_INTERVAL_MS before each request, so all replicas (and a
 *   restarted monitor) together send at most one request per interval.
 * - The time up to which a running monitor watched for dead tasks and delivered their alerts
 *   (never after the oldest death it still holds): the next monitor to start alerts the tasks
 *   that died after it (catch-up), so a monitor killed with undelivered alerts loses none.
 */
const claimKey = (prefix: string, alert: Pick<DeadTaskAlert, 'id' | 'finishedAt'>): string =>
  `${prefix}:{monitor}:dead-alerted:${alert.id}:${Date.parse(alert.finishedAt)}`;
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
    @Inject(FAILURES_REDIS) private readonly redis: RedisConnection,
  ) {
    const url = config.alertWebhookUrl;
    if (!url) return;
    const sender = new WebhookAlertSender(url, config.alertTimeoutMs);
    const target = describeWebhook(url);
    this.target = target;
    this.batcher = new AlertBatcher<DeadTaskAlert>(
      async ({ entries, dropped }) => {
        const claimed = await this.claim(entries);
        if (claimed.length === 0 && dropped === 0) return;
        try {
          await sender.send({ source: 'taskq', dead: claimed, count: claimed.length, dropped });
        } catch (error) {
          await this.release(claimed);
          throw error;
        }
        this.logger.log(`alerted ${target} of ${claimed.length} dead task(s)${dropped ? ` (and ${dropped} dropped from a full buffer)` : ''}`);
      },
      {
        intervalMs: config.alertIntervalMs,
        capacity: config.alertBufferSize,
        gatherMs: Math.min(1_000, config.alertIntervalMs),
        maxRetryDelayMs: Math.max(config.alertIntervalMs, 15 * 60_000),
        reserveSlot: () => this.reserveSlot(),
        stillWanted: (entries) => this.unclaimed(entries),
      },
      {
        failed: (error, batch, retryInMs) =>
          this.logger.warn(`alert of ${batch.entries.length} dead task(s) not delivered (${error.message}); next try in ${retryInMs} ms`),
      },
    );
  }

  /**
   * Queues for alerting the dead tasks that died while no monitor was watching (since the
   * last one's mark, at most 24 h back) and that no monitor alerted, then starts marking.
   * Runs before the events are read.
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
        const missed = await this.unclaimed(dead.slice(0, capacity).map(deadTaskAlert));
        for (const alert of missed) this.batcher.add(alert);
        if (missed.length > 0) this.logger.log(`${missed.length} dead task(s) that died while no monitor was watching (since ${from.toISOString()}) will be alerted`);
        if (dead.length > capacity) this.logger.warn(`more than ${capacity} dead tasks since ${from.toISOString()}: only the first ${capacity} are alerted, see GET /dlq`);
      }
    } catch (error) {
      this.logger.warn(`could not look for dead tasks missed while no monitor was watching: ${(error as Error).message}`);
    }
    await this.markWatching();
    this.watchingMark = setInterval(() => void this.markWatching(), WATCHING_MARK_MS);
    this.watchingMark.unref();
  }

  /** Queues a dead task for the next alert. Replicas all queue it; the one that sends it first claims it. */
  notify(task: DeadTaskSummary): void {
    this.batcher?.add(deadTaskAlert(task));
  }

  /**
   * Runs after the event watchers stopped: one last delivery within SHUTDOWN_TIMEOUT_MS. What
   * is left stays before the mark, so the next monitor to start alerts it.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.watchingMark);
    if (!this.batcher) return;
    const { dropped } = await this.batcher.close(Date.now() + this.config.shutdownTimeoutMs);
    // Another replica may have delivered some of what is left.
    const left = this.batcher.undelivered();
    const undelivered = left.length > 0 ? await this.unclaimed(left).catch(() => left) : [];
    if (this.watchingMark) await this.markWatching(undelivered);
    if (undelivered.length > 0 || dropped > 0) {
      this.logger.error(
        `${undelivered.length + dropped} dead-task alert(s) not delivered before shutdown` +
          (undelivered.length ? `: ${undelivered.map((e) => e.id).join(', ')} (the next monitor to start alerts them; see GET /dlq)` : ' (see GET /dlq)'),
      );
    }
  }

  /**
   * Claims the alerts about to be sent (one pipelined SET NX): resolves with those no other
   * replica (or earlier request) claimed. Without Redis, all of them: better twice than never.
   */
  private async claim(alerts: DeadTaskAlert[]): Promise<DeadTaskAlert[]> {
    if (alerts.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const alert of alerts) pipeline.set(claimKey(this.config.queuePrefix, alert), '1', 'EX', CLAIM_TTL_SECONDS, 'NX');
    try {
      const replies = (await pipeline.exec()) ?? [];
      return alerts.filter((_alert, index) => {
        const [error, reply] = replies[index] ?? [new Error('no reply from Redis')];
        if (error) throw error;
        return reply === 'OK';
      });
    } catch (error) {
      this.logger.warn(`could not claim the alert of ${alerts.length} dead task(s) (${(error as Error).message}): alerting them anyway`);
      return alerts;
    }
  }

  /** Gives back the claims of a request that failed: the retry, another replica or the next monitor sends them. */
  private async release(alerts: DeadTaskAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.redis.del(...alerts.map((alert) => claimKey(this.config.queuePrefix, alert))).catch((error: Error) =>
      this.logger.warn(`could not release the claims of ${alerts.length} undelivered dead task(s): ${error.message}`),
    );
  }

  /** The alerts nobody claimed yet (one pipelined EXISTS). Throws without Redis. */
  private async unclaimed(alerts: DeadTaskAlert[]): Promise<DeadTaskAlert[]> {
    if (alerts.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const alert of alerts) pipeline.exists(claimKey(this.config.queuePrefix, alert));
    const replies = (await pipeline.exec()) ?? [];
    return alerts.filter((_alert, index) => {
      const [error, exists] = replies[index] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      return exists === 0;
    });
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

  /** Now, or the death of the oldest alert not delivered yet if earlier. */
  private async markWatching(undelivered = this.batcher?.undelivered() ?? []): Promise<void> {
    const until = undelivered.reduce((earliest, alert) => Math.min(earliest, Date.parse(alert.finishedAt)), Date.now());
    await this.redis.set(watchedUntilKey(this.config.queuePrefix), String(until)).catch(() => undefined);
  }
}
