import { Module } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { createRedisConnection } from '@taskq/queue';
import { DeadTaskAlerter } from './dead-task-alerter';
import { FailureReporter } from './failure-reporter';
import { FAILURES_REDIS, FailuresRedisShutdown } from './failures-redis';
import { QueueFailureWatcher } from './queue-failure-watcher';

/** Logs every failed attempt and dead task, and alerts dead tasks to ALERT_WEBHOOK_URL. */
@Module({
  providers: [
    {
      provide: FAILURES_REDIS,
      // Waits for the connection at start-up, then gives up on a command after one retry.
      useFactory: (config: MonitorConfig) => createRedisConnection(config.redisUrl, 'producer', { enableOfflineQueue: true }),
      inject: [MonitorConfig],
    },
    FailuresRedisShutdown,
    DeadTaskAlerter,
    FailureReporter,
    QueueFailureWatcher,
  ],
  // The reconciler reports the tasks it declares dead through the same path.
  exports: [FailureReporter],
})
export class FailuresModule {}
