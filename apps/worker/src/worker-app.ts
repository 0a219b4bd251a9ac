import { Logger, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { WorkerConfig } from '@taskq/config';
import { finishStartOrClose, startAppLogging, useAppLogger } from '@taskq/observability';
import { openMigratedDataSource, startupDatabaseOptions } from '@taskq/persistence';
import { checkRedis } from '@taskq/queue';
import { WorkerMetricsListener } from './runtime/metrics-listener';

import { WorkerModule } from './worker.module';

/**
 * Waits for Redis and PostgreSQL (up to STARTUP_CHECK_TIMEOUT_MS), then for the API to have created and migrated the database, then starts
 * one BullMQ worker per served task type. No HTTP API: an application context only.
 */
export async function createWorkerApp(config: WorkerConfig, handlers?: Provider[]): Promise<INestApplicationContext> {
  // Start-up lines go through pino (JSON, LOG_LEVEL) before Nest exists.
  startAppLogging('worker', config);
  await checkRedis(config.redisUrl, config.startupCheckTimeoutMs, (message) => new Logger('Redis').warn(message));
  const dataSource = await openMigratedDataSource(startupDatabaseOptions(config, { genericPlans: true }), config.schemaWaitTimeoutMs, () =>
    new Logger('Database').log('waiting for the API to create and migrate the database'),
  );
  try {
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, dataSource, handlers), { bufferLogs: true });
    useAppLogger(app);
    await finishStartOrClose(app, (started) => started.get(WorkerMetricsListener).start());
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    return app;
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
