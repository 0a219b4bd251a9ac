import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ScheduleStore } from '@taskq/persistence';
import { ScheduleQueue, resyncSchedules } from '@taskq/queue';

/**
 * Re-registers every enabled schedule's BullMQ job scheduler from PostgreSQL at start-up and
 * removes the ones PostgreSQL does not know or has disabled: schedules survive a Redis
 * restart. A failure is logged; the monitor re-syncs periodically anyway.
 */
@Injectable()
export class ScheduleRedisSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Schedules');

  constructor(
    private readonly store: ScheduleStore,
    private readonly queue: ScheduleQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const { registered, removed } = await resyncSchedules(this.store, this.queue);
      if (registered.length || removed.length) {
        this.logger.log(`schedules re-synced from PostgreSQL: registered ${registered.join(', ') || 'none'}; removed ${removed.join(', ') || 'none'}`);
      }
    } catch (error) {
      this.logger.warn(`could not re-sync the schedules in Redis: ${(error as Error).message}`);
    }
  }

  /** The connection belongs to the infrastructure module, which closes it. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
