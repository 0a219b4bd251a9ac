import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startTracing } from '@taskq/observability';
import { ApiConfig, loadConfig, runMain } from '@taskq/config';
import { createApiApp } from './api-app';

runMain('api', async () => {
  const config = loadConfig(ApiConfig);
  // Before the app is built, so every span has the provider; the last ones are exported at shutdown (ResourcesShutdown).
  // Nothing is installed without OTEL_EXPORTER_OTLP_ENDPOINT.
  startTracing(config, 'taskq-api');
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
  new Logger('Api').log(`taskq api listening on http://${config.host}:${config.port}`);
});
