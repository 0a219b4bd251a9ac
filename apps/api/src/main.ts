import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ApiConfig, loadConfig, runMain } from '@taskq/config';
import { createApiApp } from './api-app';

runMain('api', async () => {
  const config = loadConfig(ApiConfig);
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
  new Logger('Api').log(`taskq api listening on http://${config.host}:${config.port}`);
});
