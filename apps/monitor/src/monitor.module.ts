import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MonitorConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { TaskQueries, TaskStore } from '@taskq/persistence';
import { FailuresModule } from './failures/failures.module';
import { MonitorObservabilityModule } from './observability/monitor-observability.module';
import { ReconcilerModule } from './reconciler/reconciler.module';
import { RetentionModule } from './retention/retention.module';
import { SchedulesModule } from './schedules/schedules.module';

@Injectable()
class ResourcesShutdown implements OnApplicationShutdown {
  constructor(
    private readonly store: TaskStore,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  /** The watchers and maintenance workers stop in earlier hooks; the pool closes last. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.flush();
    await this.dataSource.destroy();
  }
}

/** The monitor: failure alerts, retention clean-up, recurring schedules and the reconciler. */
@Module({})
export class MonitorModule {
  static forRoot(config: MonitorConfig, dataSource: DataSource): DynamicModule {
    return {
      module: MonitorModule,
      global: true,
      imports: [
        MonitorObservabilityModule.forRoot(config),
        FailuresModule,
        RetentionModule,
        SchedulesModule,
        ReconcilerModule,
      ],
      providers: [
        { provide: MonitorConfig, useValue: config },
        { provide: DataSource, useValue: dataSource },
        { provide: TaskStore, useFactory: (ds: DataSource, metrics: TaskqMetrics) => new TaskStore(ds, { onBatch: metrics.observeWriteBatch }), inject: [DataSource, TaskqMetrics] },
        { provide: TaskQueries, useFactory: (ds: DataSource) => new TaskQueries(ds), inject: [DataSource] },
        ResourcesShutdown,
      ],
      exports: [MonitorConfig, DataSource, TaskStore, TaskQueries, MonitorObservabilityModule],
    };
  }
}
