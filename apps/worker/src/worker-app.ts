import { Logger, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { nestLogLevels, type WorkerConfig } from '@taskq/config';
import { ensureDatabase, openDataSource, waitForSchema } from '@taskq/persistence';
import { checkRedis } from '@taskq/queue';

import { WorkerModule } from './worker.module';

/**
 * Checks Redis and PostgreSQL, waits for the API to have migrated the schema, then starts
 * one BullMQ worker per served task type. No HTTP API: an application context only.
 */
export async function createWorkerApp(config: WorkerConfig, handlers?: Provider[]): Promise<INestApplicationContext> {
  await checkRedis(config.redisUrl, config.startupCheckTimeoutMs);
  await ensureDatabase({ url: config.databaseUrl, connectTimeoutMs: config.startupCheckTimeoutMs });
  const dataSource = await openDataSource({ url: config.databaseUrl, connectTimeoutMs: config.startupCheckTimeoutMs });
  try {
    await waitForSchema(dataSource, config.schemaWaitTimeoutMs, () => new Logger('Database').log('waiting for the API to migrate the schema'));
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, dataSource, handlers), {
      logger: nestLogLevels(config.logLevel),
    });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    return app;
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
