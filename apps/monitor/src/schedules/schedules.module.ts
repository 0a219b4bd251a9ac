import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { MonitorConfig } from '@taskq/config';
import { ScheduleStore } from '@taskq/persistence';
import { ScheduleQueue } from '@taskq/queue';
import { PRODUCER_REDIS } from '../producer-redis';
import { ScheduleRunWorker } from './schedule-run-worker';
import { ScheduleRunner } from './schedule-runner';
import { ScheduleSyncLoop } from './schedule-sync-loop';

/**
 * Recurring schedules: a BullMQ worker turns each run into an ordinary task, and a loop keeps
 * Redis's job schedulers equal to PostgreSQL's schedules. Uses the monitor's DataSource,
 * TaskAdmission, TaskQueries, TaskProducer and producer connection; the run worker owns its own.
 */
@Module({
  providers: [
    {
      provide: ScheduleQueue,
      useFactory: (redis: Redis, config: MonitorConfig) => new ScheduleQueue(redis, config.queuePrefix),
      inject: [PRODUCER_REDIS, MonitorConfig],
    },
    { provide: ScheduleStore, useFactory: (dataSource: DataSource) => new ScheduleStore(dataSource), inject: [DataSource] },
    ScheduleRunner,
    ScheduleRunWorker,
    ScheduleSyncLoop,
  ],
})
export class SchedulesModule {}
