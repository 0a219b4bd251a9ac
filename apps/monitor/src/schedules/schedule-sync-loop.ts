import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { ScheduleStore } from '@taskq/persistence';
import { ScheduleQueue, resyncSchedules } from '@taskq/queue';

/**
 * Keeps Redis's job schedulers equal to PostgreSQL's enabled schedules: at start-up and then
 * every SCHEDULE_SYNC_INTERVAL_MS, so a Redis restart heals without restarting anything.
 * Runs missed while no scheduler existed are not replayed.
 */
@Injectable()
export class ScheduleSyncLoop implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly config: MonitorConfig,
    private readonly store: ScheduleStore,
    private readonly queue: ScheduleQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.syncNow();
    this.timer = setInterval(() => void this.syncNow(), this.config.scheduleSyncIntervalMs);
  }

  /** One re-sync; a call while one runs waits for that one. Failures are logged, never thrown. */
  syncNow(): Promise<void> {
    this.running ??= this.sync().finally(() => (this.running = undefined));
    return this.running;
  }

  /** After the last re-sync; the connection is the monitor's, closed later. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.queue.close();
  }

  private async sync(): Promise<void> {
    try {
      const { registered, removed } = await resyncSchedules(this.store, this.queue);
      if (registered.length > 0) this.logger.log(`registered in Redis from PostgreSQL: ${registered.join(', ')}`);
      if (removed.length > 0) this.logger.log(`removed from Redis (unknown or disabled in PostgreSQL): ${removed.join(', ')}`);
    } catch (error) {
      this.logger.warn(`could not re-sync the schedules in Redis (next try in ${this.config.scheduleSyncIntervalMs} ms): ${(error as Error).message}`);
    }
  }
}
