import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startTracing } from '@taskq/observability';
import { MonitorConfig, loadConfig, runMain } from '@taskq/config';
import { createMonitorApp } from './monitor-app';

runMain('monitor', async () => {
  const config = loadConfig(MonitorConfig);
  // Before the app is built, so every span has the provider; the last ones are exported at shutdown (ResourcesShutdown).
  // Nothing is installed without OTEL_EXPORTER_OTLP_ENDPOINT.
  startTracing(config, 'taskq-monitor');
  await createMonitorApp(config);
  new Logger('Monitor').log('taskq monitor started');
});
