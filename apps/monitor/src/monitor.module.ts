import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MonitorConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { PersistenceModule } from '@taskq/persistence';
import { QueueModule } from '@taskq/queue';
import { TaskServicesModule } from '@taskq/tasks';
import { CallbacksModule } from './callbacks/callbacks.module';
import { FailuresModule } from './failures/failures.module';
import { MonitorObservabilityModule } from './observability/monitor-observability.module';
import { ReconcilerModule } from './reconciler/reconciler.module';
import { RetentionModule } from './retention/retention.module';
import { SchedulesModule } from './schedules/schedules.module';

/** The monitor: failure alerts, completion callbacks, retention clean-up, recurring schedules and the reconciler. */
@Module({})
export class MonitorModule {
  static forRoot(config: MonitorConfig, dataSource: DataSource): DynamicModule {
    // One registry per app instance (tests run several apps in one process).
    const metrics = new TaskqMetrics('monitor');
    return {
      module: MonitorModule,
      global: true,
      imports: [
        // The watchers, loops and maintenance workers stop in earlier hooks, and the metrics
        // listener closes before: TaskServicesModule (global) then ends, in order, the shared
        // Redis producer side and the pool.
        PersistenceModule.forRoot({ dataSource, onWriteBatch: metrics.observeWriteBatch }),
        QueueModule.forRoot(config),
        TaskServicesModule.forRoot(),
        MonitorObservabilityModule.forRoot(config, metrics),
        FailuresModule,
        RetentionModule,
        SchedulesModule,
        ReconcilerModule,
        CallbacksModule,
      ],
      providers: [{ provide: MonitorConfig, useValue: config }],
      exports: [MonitorConfig, MonitorObservabilityModule],
    };
  }
}
