import { Module } from '@nestjs/common';
import { ScheduleRunWorker } from './schedule-run-worker';
import { ScheduleRunner } from './schedule-runner';
import { ScheduleSyncLoop } from './schedule-sync-loop';

/**
 * Recurring schedules: a BullMQ worker turns each run into an ordinary task, and a loop keeps
 * Redis's job schedulers equal to PostgreSQL's schedules. Uses the monitor's DataSource,
 * TaskAdmission, TaskQueries, TaskProducer, ScheduleStore and ScheduleQueue; the run worker owns its own.
 */
@Module({
  providers: [
    ScheduleRunner,
    ScheduleRunWorker,
    ScheduleSyncLoop,
  ],
})
export class SchedulesModule {}
