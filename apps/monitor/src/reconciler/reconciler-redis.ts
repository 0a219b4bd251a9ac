import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TaskProducer } from '@taskq/queue';

/** The reconciler's own producer-side Redis connection: job look-ups, re-queues, its lease. */
export const RECONCILER_REDIS = Symbol('RECONCILER_REDIS');

/** Closes the reconciler's producer and connection after the loop stopped (an earlier hook). */
@Injectable()
export class ReconcilerRedisShutdown implements OnApplicationShutdown {
  constructor(
    private readonly producer: TaskProducer,
    @Inject(RECONCILER_REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
