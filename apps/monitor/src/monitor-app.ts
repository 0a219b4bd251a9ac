import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MonitorConfig } from '@taskq/config';
import { finishStartOrClose, startAppLogging, useAppLogger } from '@taskq/observability';
import { openPreparedDataSource, startupDatabaseOptions } from '@taskq/persistence';
import { checkRedis } from '@taskq/queue';
import { MonitorMetricsListener } from './observability/monitor-metrics-listener';
import { MonitorModule } from './monitor.module';

/**
 * Waits for Redis and PostgreSQL (up to STARTUP_CHECK_TIMEOUT_MS), creates and migrates the database (like the API: either may
 * start first), then starts the monitor's watchers and maintenance jobs. No HTTP API.
 */
export async function createMonitorApp(config: MonitorConfig): Promise<INestApplicationContext> {
  startAppLogging('monitor', config);
  await checkRedis(config.redisUrl, config.startupCheckTimeoutMs, (message) => new Logger('Redis').warn(message));
  const dataSource = await openPreparedDataSource(startupDatabaseOptions(config), (applied) =>
    new Logger('Database').log(`applied migrations: ${applied.join(', ')}`),
  );
  try {
    const app = await NestFactory.createApplicationContext(MonitorModule.forRoot(config, dataSource), { bufferLogs: true });
    useAppLogger(app);
    await finishStartOrClose(app, (started) => started.get(MonitorMetricsListener).start());
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    return app;
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
