import { Module, type DynamicModule } from '@nestjs/common';
import type { MonitorConfig } from '@taskq/config';
import { TaskqMetrics, appLoggerModule } from '@taskq/observability';
import { MonitorMetricsListener } from './monitor-metrics-listener';
import { MonitorQueueDepth } from './monitor-queue-depth';

/** The monitor's pino logging, its metrics registry (exported) and the /health + /metrics listener. */
@Module({})
export class MonitorObservabilityModule {
  static forRoot(config: MonitorConfig, metrics: TaskqMetrics): DynamicModule {
    return {
      module: MonitorObservabilityModule,
      imports: [appLoggerModule('monitor', config)],
      providers: [
        { provide: TaskqMetrics, useValue: metrics },
        MonitorQueueDepth,
        MonitorMetricsListener,
      ],
      exports: [TaskqMetrics],
    };
  }
}
