import { Module } from '@nestjs/common';
import { RetentionProcessor } from './retention-processor';
import { RetentionScheduler } from './retention-scheduler';

/** Deletes old finished tasks on a schedule (RETENTION_*). Uses the monitor's DeadLetterMirror and producer connection. */
@Module({
  providers: [RetentionProcessor, RetentionScheduler],
  exports: [RetentionProcessor],
})
export class RetentionModule {}
