import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { MonitorConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { TaskAdmissions, TaskLifecycleStore, TaskMaintenance, TaskQueries } from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer, connectRedis } from '@taskq/queue';
import { TaskAdmission, TaskRequeue } from '@taskq/tasks';
import { FailuresModule } from './failures/failures.module';
import { MonitorObservabilityModule } from './observability/monitor-observability.module';
import { PRODUCER_REDIS } from './producer-redis';
import { ReconcilerModule } from './reconciler/reconciler.module';
import { RetentionModule } from './retention/retention.module';
import { SchedulesModule } from './schedules/schedules.module';

@Injectable()
class ResourcesShutdown implements OnApplicationShutdown {
  constructor(
    private readonly store: TaskAdmissions,
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
  ) {}

  /**
   * The watchers, loops and maintenance workers stop in earlier hooks (this global module's
   * hooks run after every other module's), and the metrics listener closes before: the
   * shared Redis producer side and the pool close last.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    await this.deadLetters.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
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
        { provide: TaskAdmissions, useFactory: (ds: DataSource, metrics: TaskqMetrics) => new TaskAdmissions(ds, { onBatch: metrics.observeWriteBatch }), inject: [DataSource, TaskqMetrics] },
        { provide: TaskLifecycleStore, useFactory: (ds: DataSource) => new TaskLifecycleStore(ds), inject: [DataSource] },
        { provide: TaskMaintenance, useFactory: (ds: DataSource) => new TaskMaintenance(ds), inject: [DataSource] },
        { provide: TaskQueries, useFactory: (ds: DataSource) => new TaskQueries(ds), inject: [DataSource] },
        // Fails fast without an offline queue, so it must be connected before its first command.
        { provide: PRODUCER_REDIS, useFactory: () => connectRedis(config.redisUrl, 'producer', config.startupCheckTimeoutMs) },
        { provide: TaskProducer, useFactory: (redis: Redis) => new TaskProducer(redis, config.queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: DeadLetterMirror, useFactory: (redis: Redis) => new DeadLetterMirror(redis, config.queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: TaskAdmission, useFactory: (admissions: TaskAdmissions, producer: TaskProducer) => new TaskAdmission(admissions, producer), inject: [TaskAdmissions, TaskProducer] },
        {
          provide: TaskRequeue,
          useFactory: (lifecycle: TaskLifecycleStore, producer: TaskProducer, deadLetters: DeadLetterMirror) => new TaskRequeue(lifecycle, producer, deadLetters),
          inject: [TaskLifecycleStore, TaskProducer, DeadLetterMirror],
        },
        ResourcesShutdown,
      ],
      exports: [MonitorConfig, DataSource, TaskAdmissions, TaskMaintenance, TaskQueries, PRODUCER_REDIS, TaskProducer, DeadLetterMirror, TaskAdmission, TaskRequeue, MonitorObservabilityModule],
    };
  }
}
