import { Module } from '@nestjs/common';
import { ScheduleRedisSync } from './schedule-redis-sync';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/** Recurring schedules' routes; ScheduleStore and ScheduleQueue come from PersistenceModule and QueueModule. */
@Module({
  controllers: [SchedulesController],
  providers: [SchedulesService, ScheduleRedisSync],
})
export class SchedulesModule {}
