import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { WorkerConfig } from '@taskq/config';
import { TaskqMetrics, appLoggerModule } from '@taskq/observability';
import { AttemptLog, TaskQueries } from '@taskq/persistence';
import { DeadLetterMirror, createRedisConnection } from '@taskq/queue';
import { TASK_HANDLERS } from './handlers';
import { CancelListener } from './runtime/cancel-listener';
import { HandlerRegistry } from './runtime/handler-registry';
import { WorkerMetricsListener } from './runtime/metrics-listener';
import { QueueWorkersService } from './runtime/queue-workers.service';
import { RunningAttempts } from './runtime/running-attempts';
import { TaskRunner } from './runtime/task-runner';

@Injectable()
class ResourcesShutdown implements OnApplicationShutdown {
  constructor(
    private readonly attempts: AttemptLog,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  /** Workers are closed in beforeApplicationShutdown, so every attempt record is written by now. */
  async onApplicationShutdown(): Promise<void> {
    await this.attempts.flush();
    await this.dataSource.destroy();
    await this.deadLetters.close();
  }
}

@Module({})
export class WorkerModule {
  /** `handlers` is replaceable so tests can prove the start-up check. */
  static forRoot(config: WorkerConfig, dataSource: DataSource, handlers: Provider[] = TASK_HANDLERS): DynamicModule {
    return {
      module: WorkerModule,
      imports: [DiscoveryModule, appLoggerModule('worker', config)],
      providers: [
        { provide: WorkerConfig, useValue: config },
        { provide: DataSource, useValue: dataSource },
        // One registry per app instance (tests run several apps in one process).
        { provide: TaskqMetrics, useFactory: () => new TaskqMetrics('worker') },
        {
          provide: AttemptLog,
          useFactory: (ds: DataSource, metrics: TaskqMetrics) => new AttemptLog(ds, { onBatch: metrics.observeWriteBatch }),
          inject: [DataSource, TaskqMetrics],
        },
        { provide: TaskQueries, useFactory: (ds: DataSource) => new TaskQueries(ds), inject: [DataSource] },
        {
          provide: DeadLetterMirror,
          useFactory: () => new DeadLetterMirror(createRedisConnection(config.redisUrl, 'worker'), config.queuePrefix, true),
        },
        ...handlers,
        RunningAttempts,
        CancelListener,
        HandlerRegistry,
        TaskRunner,
        QueueWorkersService,
        WorkerMetricsListener,
        ResourcesShutdown,
      ],
    };
  }
}
