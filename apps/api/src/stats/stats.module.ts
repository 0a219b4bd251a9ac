import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TaskStatsStore } from '@taskq/persistence';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';

/** `GET /stats`. Its store reads the app's DataSource; TaskProducer comes from QueueModule. */
@Module({
  controllers: [StatsController],
  providers: [StatsService, { provide: TaskStatsStore, useFactory: (dataSource: DataSource) => new TaskStatsStore(dataSource), inject: [DataSource] }],
})
export class StatsModule {}
