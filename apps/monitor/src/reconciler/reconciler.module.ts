import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MonitorConfig } from '@taskq/config';
import { PRODUCER_REDIS } from '../producer-redis';
import { Reconciler } from './reconciler';
import { ReconcilerLease } from './reconciler-lease';
import { ReconcilerLoop } from './reconciler-loop';

/**
 * Re-queues the unfinished tasks whose jobs Redis lost (RECONCILE_*). Uses the monitor's
 * TaskStore, TaskQueries, metrics, TaskProducer and producer connection.
 */
@Module({
  providers: [
    {
      provide: ReconcilerLease,
      useFactory: (redis: Redis, config: MonitorConfig) => new ReconcilerLease(redis, config.queuePrefix),
      inject: [PRODUCER_REDIS, MonitorConfig],
    },
    Reconciler,
    ReconcilerLoop,
  ],
})
export class ReconcilerModule {}
