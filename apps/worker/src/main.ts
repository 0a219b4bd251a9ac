import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startTracing } from '@taskq/observability';
import { WorkerConfig, loadConfig, runMain } from '@taskq/config';
import { createWorkerApp } from './worker-app';

runMain('worker', async () => {
  const config = loadConfig(WorkerConfig);
  // Before the app is built, so every span has the provider; the last ones are exported at shutdown (ResourcesShutdown).
  // Nothing is installed without OTEL_EXPORTER_OTLP_ENDPOINT.
  startTracing(config, 'taskq-worker');
  await createWorkerApp(config);
  new Logger('Worker').log(`taskq worker ${config.workerId} started`);
});
