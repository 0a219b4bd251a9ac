import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { WorkerConfig, loadConfig, runMain } from '@taskq/config';
import { createWorkerApp } from './worker-app';

runMain('worker', async () => {
  const config = loadConfig(WorkerConfig);
  await createWorkerApp(config);
  new Logger('Worker').log(`taskq worker ${config.workerId} started`);
});
