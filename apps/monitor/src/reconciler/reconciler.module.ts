import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MonitorConfig } from '@taskq/config';
import { TaskProducer, connectRedis } from '@taskq/queue';
import { Reconciler } from './reconciler';
import { ReconcilerLease } from './reconciler-lease';
import { ReconcilerLoop } from './reconciler-loop';
import { RECONCILER_REDIS, ReconcilerRedisShutdown } from './reconciler-redis';

/**
 * Re-queues the unfinished tasks whose jobs Redis lost (RECONCILE_*). Uses the monitor's
 * TaskStore, TaskQueries and metrics; owns its Redis connection and producer.
 */
@Module({
  providers: [
    {
      provide: RECONCILER_REDIS,
      useFactory: (config: MonitorConfig) => connectRedis(config.redisUrl, 'producer', config.startupCheckTimeoutMs),
      inject: [MonitorConfig],
    },
    {
      provide: TaskProducer,
      useFactory: (redis: Redis, config: MonitorConfig) => new TaskProducer(redis, config.queuePrefix),
      inject: [RECONCILER_REDIS, MonitorConfig],
    },
    {
      provide: ReconcilerLease,
      useFactory: (redis: Redis, config: MonitorConfig) => new ReconcilerLease(redis, config.queuePrefix),
      inject: [RECONCILER_REDIS, MonitorConfig],
    },
    Reconciler,
    ReconcilerLoop,
    ReconcilerRedisShutdown,
  ],
})
export class ReconcilerModule {}
