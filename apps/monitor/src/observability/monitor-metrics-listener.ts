import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { MetricsListener, TaskqMetrics } from '@taskq/observability';

/** Health probes and Prometheus scrapes on METRICS_PORT (the monitor has no HTTP API). */
@Injectable()
export class MonitorMetricsListener implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private readonly listener: MetricsListener;
  private stopping = false;

  constructor(metrics: TaskqMetrics, @Inject(MonitorConfig) config: MonitorConfig) {
    this.listener = new MetricsListener({
      port: config.metricsPort,
      host: config.metricsHost,
      metrics,
      health: () => (this.stopping ? { healthy: false, status: 'stopping' } : { healthy: true, status: 'ok' }),
    });
  }

  /** Where /health and /metrics answer (null when METRICS_PORT is -1). */
  get port(): number | null {
    return this.listener.port;
  }

  /** Called by the app's factory once the app is up (see finishStartOrClose), not by a Nest hook. */
  async start(): Promise<void> {
    const port = await this.listener.start();
    if (port !== null) this.logger.log(`health and metrics on port ${port} (/health, /metrics)`);
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.close();
  }
}
