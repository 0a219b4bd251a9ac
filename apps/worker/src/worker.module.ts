import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { WorkerConfig } from '@taskq/config';
import { TaskqMetrics, appLoggerModule } from '@taskq/observability';
import { PersistenceModule } from '@taskq/persistence';
import { QueueModule } from '@taskq/queue';
import { TaskServicesModule } from '@taskq/tasks';
import { TASK_HANDLERS } from './handlers';
import { CancelListener } from './runtime/cancel-listener';
import { HandlerRegistry } from './runtime/handler-registry';
import { WorkerMetricsListener } from './runtime/metrics-listener';
import { QueueWorkersService } from './runtime/queue-workers.service';
import { RunningAttempts } from './runtime/running-attempts';
import { TaskRunner } from './runtime/task-runner';

@Module({})
export class WorkerModule {
  /** `handlers` is replaceable so tests can prove the start-up check. */
  static forRoot(config: WorkerConfig, dataSource: DataSource, handlers: Provider[] = TASK_HANDLERS): DynamicModule {
    // One registry per app instance (tests run several apps in one process).
    const metrics = new TaskqMetrics('worker');
    return {
      module: WorkerModule,
      imports: [
        DiscoveryModule,
        appLoggerModule('worker', config),
        PersistenceModule.forRoot({ dataSource, onWriteBatch: metrics.observeWriteBatch }),
        QueueModule.forWorker(config),
        // Workers are closed in beforeApplicationShutdown, so every attempt record is written by its flush.
        TaskServicesModule.shutdownOnly(),
      ],
      providers: [
        { provide: WorkerConfig, useValue: config },
        { provide: TaskqMetrics, useValue: metrics },
        ...handlers,
        RunningAttempts,
        CancelListener,
        HandlerRegistry,
        TaskRunner,
        QueueWorkersService,
        WorkerMetricsListener,
      ],
    };
  }
}
