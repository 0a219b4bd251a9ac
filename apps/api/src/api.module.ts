import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ApiConfig } from '@taskq/config';
import { TaskqMetrics, appLoggerModule } from '@taskq/observability';
import { PersistenceModule } from '@taskq/persistence';
import { QueueModule } from '@taskq/queue';
import { TaskServicesModule } from '@taskq/tasks';
import { AuthModule } from './auth/auth.module';
import { SigningSecretController } from './callbacks/signing-secret.controller';
import { ConsoleModule } from './console/console.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { MetricsModule } from './metrics/metrics.module';
import { SchedulesModule } from './schedules/schedules.module';
import { StatsModule } from './stats/stats.module';
import { TaskTypesController } from './task-types/task-types.controller';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class ApiModule {
  /** `bootstrapKey`: the admin key from configuration (or made for this run), if any. */
  static forRoot(config: ApiConfig, dataSource: DataSource, bootstrapKey: string | undefined): DynamicModule {
    // One registry per app instance (tests run several apps in one process).
    const metrics = new TaskqMetrics('api');
    return {
      module: ApiModule,
      imports: [
        appLoggerModule('api', config),
        // PostgreSQL (already opened and migrated by the bootstrap) and the Redis producer side,
        // ended in order by TaskServicesModule after the HTTP server has closed.
        PersistenceModule.forRoot({ dataSource, onWriteBatch: metrics.observeWriteBatch }),
        QueueModule.forRoot(config),
        TaskServicesModule.forRoot(),
        InfrastructureModule.forRoot(config, metrics),
        AuthModule.forRoot(bootstrapKey),
        TasksModule,
        EventsModule,
        ConsoleModule,
        SchedulesModule,
        StatsModule,
        HealthModule,
        MetricsModule,
      ],
      controllers: [TaskTypesController, SigningSecretController],
    };
  }
}
