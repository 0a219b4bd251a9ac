import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { MonitorConfig, loadConfig, runMain } from '@taskq/config';
import { createMonitorApp } from './monitor-app';

runMain('monitor', async () => {
  const config = loadConfig(MonitorConfig);
  await createMonitorApp(config);
  new Logger('Monitor').log('taskq monitor started');
});
