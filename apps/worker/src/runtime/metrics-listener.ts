import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { WorkerConfig } from '@taskq/config';
import { MetricsListener, TaskqMetrics } from '@taskq/observability';
import { QueueWorkersService } from './queue-workers.service';

/** The worker has no HTTP API: this listener answers health probes and Prometheus scrapes on METRICS_PORT. */
@Injectable()
export class WorkerMetricsListener implements OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private readonly listener: MetricsListener;

  constructor(workers: QueueWorkersService, metrics: TaskqMetrics, @Inject(WorkerConfig) config: WorkerConfig) {
    this.listener = new MetricsListener({
      port: config.metricsPort,
      host: config.metricsHost,
      metrics,
      health: () => (workers.running ? { healthy: true, status: 'ok' } : { healthy: false, status: 'stopping' }),
    });
  }

  /** Called by the app's factory once the app is up (see finishStartOrClose), not by a Nest hook. */
  async start(): Promise<void> {
    const port = await this.listener.start();
    if (port !== null) this.logger.log(`health and metrics on port ${port} (/health, /metrics)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.close();
  }
}
