import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ScheduleQueue, TaskProducer } from '@taskq/queue';
import { SCHEDULES_REDIS } from './tokens';

/** After the run worker and the sync loop stopped (earlier hooks): the Redis side closes. */
@Injectable()
export class SchedulesShutdown implements OnApplicationShutdown {
  constructor(
    private readonly queue: ScheduleQueue,
    private readonly producer: TaskProducer,
    @Inject(SCHEDULES_REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    await this.producer.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
