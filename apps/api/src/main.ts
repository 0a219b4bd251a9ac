import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startTracing } from '@taskq/observability';
import { ApiConfig, loadConfig, runMain } from '@taskq/config';
import { createApiApp } from './api-app';

runMain('api', async () => {
  const config = loadConfig(ApiConfig);
  // Before the app: the spans of its start-up have a provider. Nothing is installed without OTEL_EXPORTER_OTLP_ENDPOINT.
  startTracing('taskq-api');
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
  new Logger('Api').log(`taskq api listening on http://${config.host}:${config.port}`);
});
