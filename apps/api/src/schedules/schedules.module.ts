import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ApiConfig } from '@taskq/config';
import { ScheduleStore } from '@taskq/persistence';
import { ScheduleQueue } from '@taskq/queue';
import { PRODUCER_REDIS } from '../infrastructure/tokens';
import { ScheduleRedisSync } from './schedule-redis-sync';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

@Module({
  controllers: [SchedulesController],
  providers: [
    { provide: ScheduleStore, useFactory: (dataSource: DataSource) => new ScheduleStore(dataSource), inject: [DataSource] },
    { provide: ScheduleQueue, useFactory: (redis: Redis, config: ApiConfig) => new ScheduleQueue(redis, config.queuePrefix), inject: [PRODUCER_REDIS, ApiConfig] },
    SchedulesService,
    ScheduleRedisSync,
  ],
})
export class SchedulesModule {}
