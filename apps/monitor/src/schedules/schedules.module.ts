import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { MonitorConfig } from '@taskq/config';
import { ScheduleStore } from '@taskq/persistence';
import { ScheduleQueue, TaskProducer, connectRedis } from '@taskq/queue';
import { ScheduleRunWorker } from './schedule-run-worker';
import { ScheduleRunner } from './schedule-runner';
import { ScheduleSyncLoop } from './schedule-sync-loop';
import { SchedulesShutdown } from './schedules-shutdown';
import { SCHEDULES_REDIS } from './tokens';

/**
 * Recurring schedules: a BullMQ worker turns each run into an ordinary task, and a loop keeps
 * Redis's job schedulers equal to PostgreSQL's schedules. Uses the monitor's DataSource,
 * TaskStore and TaskQueries; owns its Redis connections.
 */
@Module({
  providers: [
    {
      provide: SCHEDULES_REDIS,
      useFactory: (config: MonitorConfig) => connectRedis(config.redisUrl, 'producer', config.startupCheckTimeoutMs),
      inject: [MonitorConfig],
    },
    {
      provide: ScheduleQueue,
      useFactory: (redis: Redis, config: MonitorConfig) => new ScheduleQueue(redis, config.queuePrefix),
      inject: [SCHEDULES_REDIS, MonitorConfig],
    },
    {
      provide: TaskProducer,
      useFactory: (redis: Redis, config: MonitorConfig) => new TaskProducer(redis, config.queuePrefix),
      inject: [SCHEDULES_REDIS, MonitorConfig],
    },
    { provide: ScheduleStore, useFactory: (dataSource: DataSource) => new ScheduleStore(dataSource), inject: [DataSource] },
    ScheduleRunner,
    ScheduleRunWorker,
    ScheduleSyncLoop,
    SchedulesShutdown,
  ],
})
export class SchedulesModule {}
