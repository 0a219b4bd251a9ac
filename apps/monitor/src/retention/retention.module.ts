import { Module } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { DeadLetterMirror, createRedisConnection } from '@taskq/queue';
import { RetentionProcessor } from './retention-processor';
import { RetentionScheduler } from './retention-scheduler';

/** Deletes old finished tasks on a schedule (RETENTION_*). */
@Module({
  providers: [
    {
      provide: DeadLetterMirror,
      useFactory: (config: MonitorConfig) => new DeadLetterMirror(createRedisConnection(config.redisUrl, 'worker'), config.queuePrefix, true),
      inject: [MonitorConfig],
    },
    RetentionProcessor,
    RetentionScheduler,
  ],
  exports: [RetentionProcessor],
})
export class RetentionModule {}
