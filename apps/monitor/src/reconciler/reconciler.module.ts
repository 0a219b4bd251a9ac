import { Module } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';
import { MonitorConfig } from '@taskq/config';
import { PRODUCER_REDIS } from '@taskq/queue';
import { FailuresModule } from '../failures/failures.module';
import { Reconciler } from './reconciler';
import { ReconcilerLease } from './reconciler-lease';
import { ReconcilerLoop } from './reconciler-loop';

/**
 * Repairs every disagreement between PostgreSQL and Redis (RECONCILE_*). Uses the monitor's
 * TaskMaintenance, TaskRequeue, TaskQueries, metrics, TaskProducer, dead-letter mirror and producer connection.
 */
@Module({
  imports: [FailuresModule],
  providers: [
    {
      provide: ReconcilerLease,
      useFactory: (redis: RedisConnection, config: MonitorConfig) => new ReconcilerLease(redis, config.queuePrefix),
      inject: [PRODUCER_REDIS, MonitorConfig],
    },
    Reconciler,
    ReconcilerLoop,
  ],
})
export class ReconcilerModule {}
