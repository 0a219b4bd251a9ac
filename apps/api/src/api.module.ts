import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ApiConfig } from '@taskq/config';
import { appLoggerModule } from '@taskq/observability';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { MetricsModule } from './metrics/metrics.module';
import { SchedulesModule } from './schedules/schedules.module';
import { TaskTypesController } from './task-types/task-types.controller';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class ApiModule {
  /** `bootstrapKey`: the admin key from configuration (or made for this run), if any. */
  static forRoot(config: ApiConfig, dataSource: DataSource, bootstrapKey: string | undefined): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        appLoggerModule('api', config),
        InfrastructureModule.forRoot(config, dataSource),
        AuthModule.forRoot(bootstrapKey),
        TasksModule,
        SchedulesModule,
        HealthModule,
        MetricsModule,
      ],
      controllers: [TaskTypesController],
    };
  }
}
