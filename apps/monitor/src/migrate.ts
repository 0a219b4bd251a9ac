import 'reflect-metadata';
import { MonitorConfig, loadConfig, runMain } from '@taskq/config';
import { openPreparedDataSource, startupDatabaseOptions } from '@taskq/persistence';

/**
 * `node -r ./runtime-paths.cjs dist/apps/monitor/src/migrate.js`: creates the database if it
 * is missing, applies the pending migrations and exits (the Kubernetes migration Job). The
 * API and the monitor do the same at start-up; this runs it once, before them.
 */
runMain('migrate', async () => {
  const config = loadConfig(MonitorConfig);
  const dataSource = await openPreparedDataSource(startupDatabaseOptions(config), (applied) => process.stdout.write(`applied migrations: ${applied.join(', ')}\n`));
  await dataSource.destroy();
  process.stdout.write('taskq schema is current\n');
});
