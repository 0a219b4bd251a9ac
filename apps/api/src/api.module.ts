import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ApiConfig } from '@taskq/config';
import { appLoggerModule } from '@taskq/observability';
import { HealthModule } from './health/health.module';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { MetricsModule } from './metrics/metrics.module';
import { SchedulesModule } from './schedules/schedules.module';
import { TaskTypesController } from './task-types/task-types.controller';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class ApiModule {
  static forRoot(config: ApiConfig, dataSource: DataSource): DynamicModule {
    return {
      module: ApiModule,
      imports: [appLoggerModule('api', config), InfrastructureModule.forRoot(config, dataSource), TasksModule, SchedulesModule, HealthModule, MetricsModule],
      controllers: [TaskTypesController],
    };
  }
}
