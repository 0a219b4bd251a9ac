import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Logger } from '@nestjs/common';
import { StartupFailure, failureReason, redactUrl, waitAtStartup, type CommonConfig } from '@taskq/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { isStoreUnavailable } from './postgres-outage';

export interface DatabaseOptions {
  url: string;
  /** Pool size of this process. */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** How long start-up waits for a server that does not answer (yet); 0: one try. */
  startupWaitMs?: number;
  /** Hears, once, that start-up waits for the server. */
  onWait?: (message: string) => void;
  /**
   * Plan each prepared statement once per connection (plan_cache_mode=force_generic_plan).
   * For a process whose queries are few and always of one shape (the worker's attempt log):
   * PostgreSQL would otherwise plan them on every call, which costs as much as running them.
   */
  genericPlans?: boolean;
}

/** How an app opens its database at start-up: waiting up to STARTUP_CHECK_TIMEOUT_MS for the server, and saying so. */
export function startupDatabaseOptions(config: Pick<CommonConfig, 'databaseUrl' | 'startupCheckTimeoutMs'>, extra: Partial<DatabaseOptions> = {}): DatabaseOptions {
  return {
    ...extra,
    url: config.databaseUrl,
    connectTimeoutMs: config.startupCheckTimeoutMs,
    startupWaitMs: config.startupCheckTimeoutMs,
    onWait: (message) => new Logger('Database').warn(message),
  };
}

export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) {
    throw new StartupFailure(`DATABASE_URL must name a database made of letters, digits, - and _ (got "${name}")`);
  }
  return name;
}

/** The server did not answer: the one line start-up ends with. */
class PostgresUnreachable extends StartupFailure {
  readonly reason: string;

  constructor(url: string, error: unknown, waitedMs = 0) {
    super(
      `cannot reach PostgreSQL at ${redactUrl(url)}${waitedMs > 0 ? ` within ${waitedMs} ms` : ''} (${failureReason(error)}). Start it ` +
        `(pg_ctlcluster --skip-systemctl-redirect 15 main start, or docker compose up -d postgres) or set DATABASE_URL.`,
    );
    this.reason = failureReason(error);
  }
}

const waitingLine = (options: DatabaseOptions, error: unknown): string =>
  `waiting up to ${options.startupWaitMs} ms for PostgreSQL at ${redactUrl(options.url)}: ${error instanceof PostgresUnreachable ? error.reason : failureReason(error)}`;

/**
 * Connects to the server's maintenance database and creates the target database when it is
 * missing. Doubles as the start-up reachability check: tries again until the server answers
 * or `startupWaitMs` has passed.
 */
export async function ensureDatabase(options: DatabaseOptions): Promise<void> {
  const name = databaseNameOf(options.url);
  const maintenanceUrl = new URL(options.url);
  maintenanceUrl.pathname = '/postgres';
  const waitMs = options.startupWaitMs ?? 0;
  const client = await waitAtStartup(
    async (remainingMs) => {
      const connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 5_000, waitMs > 0 ? remainingMs : Infinity);
      const candidate = new Client({ connectionString: maintenanceUrl.toString(), connectionTimeoutMillis: connectTimeoutMs });
      candidate.on('error', () => undefined);
      try {
        await candidate.connect();
        return candidate;
      } catch (error) {
        await candidate.end().catch(() => undefined);
        throw new PostgresUnreachable(options.url, error, waitMs);
      }
    },
    waitMs,
    { onWait: (error) => options.onWait?.(waitingLine(options, error)) },
  );
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        // Another replica created it between our check and our CREATE: that is fine.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      ...(options.genericPlans ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
    },
  };
}

/** The server answers but the database does not exist (yet). */
export class DatabaseMissingError extends Error {
  override readonly name = 'DatabaseMissingError';
}

export async function openDataSource(options: DatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(options));
  try {
    return await dataSource.initialize();
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') throw new DatabaseMissingError(`database ${databaseNameOf(options.url)} does not exist`);
    throw new PostgresUnreachable(options.url, error, options.startupWaitMs);
  }
}

// Arbitrary constant: the advisory lock that serialises migrations across API and monitor replicas.
const MIGRATION_LOCK_KEY = 7_286_150_001;
const MIGRATION_LOCK_POLL_MS = 200;

/**
 * Applies pending migrations; concurrent callers (several API or monitor replicas) take turns.
 * The lock is polled rather than awaited: a session blocked in pg_advisory_lock keeps a
 * snapshot open, and a CREATE INDEX CONCURRENTLY run by the lock's holder would wait for that
 * snapshot forever.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let locked = false;
  try {
    for (;;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])) as Array<{ locked: boolean }>;
      locked = row?.locked === true;
      if (locked) break;
      await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_POLL_MS));
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    if (locked) await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Start-up of the apps that own the schema (API and monitor): creates the database if it is
 * missing, opens it and applies pending migrations. `onApplied` hears the names applied.
 */
export async function openPreparedDataSource(options: DatabaseOptions, onApplied?: (names: string[]) => void): Promise<DataSource> {
  await ensureDatabase(options);
  const dataSource = await openDataSource(options);
  try {
    const applied = await runMigrations(dataSource);
    if (applied.length > 0) onApplied?.(applied);
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

/** True once every migration this build knows has been applied (by the API). */
export async function isSchemaCurrent(dataSource: DataSource): Promise<boolean> {
  const exists = await dataSource.query(`SELECT to_regclass('migrations') IS NOT NULL AS exists`);
  if (!(exists as Array<{ exists: boolean }>)[0]?.exists) return false;
  const rows = (await dataSource.query('SELECT name FROM migrations')) as Array<{ name: string }>;
  const applied = new Set(rows.map((row) => row.name));
  return MIGRATIONS.every((migration) => applied.has(new migration().name));
}

/**
 * Workers neither create the database nor migrate it: they wait for the server to answer
 * (`startupWaitMs`), then for the API to have created and migrated the database
 * (`timeoutMs`), and return an open data source.
 */
export async function openMigratedDataSource(options: DatabaseOptions, timeoutMs: number, onWait?: () => void): Promise<DataSource> {
  let deadline: number | undefined;
  let waited = false;
  for (;;) {
    const dataSource = await openWhenServerAnswers(options);
    if (dataSource && (await schemaCurrentUnlessGone(dataSource))) return dataSource;
    await dataSource?.destroy().catch(() => undefined);
    // The schema wait starts once the server answers.
    deadline ??= Date.now() + timeoutMs;
    if (Date.now() >= deadline) {
      throw new StartupFailure(
        `the database schema is not migrated after ${timeoutMs} ms. Start the API (it creates and migrates the database) or raise SCHEMA_WAIT_TIMEOUT_MS.`,
      );
    }
    if (!waited) onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * The server can go away between the open and the check (a restart): that is not a failed
 * start but one more reason to wait, and the next open waits for the server again.
 */
async function schemaCurrentUnlessGone(dataSource: DataSource): Promise<boolean> {
  try {
    return await isSchemaCurrent(dataSource);
  } catch (error) {
    if (isStoreUnavailable(error)) return false;
    throw error;
  }
}

/** Opens the database, waiting up to `startupWaitMs` for the server; undefined when the server answers but the database does not exist (yet). */
function openWhenServerAnswers(options: DatabaseOptions): Promise<DataSource | undefined> {
  return waitAtStartup(
    () =>
      openDataSource(options).catch((error: unknown) => {
        if (error instanceof DatabaseMissingError) return undefined;
        throw error;
      }),
    options.startupWaitMs ?? 0,
    { retryable: (error) => error instanceof PostgresUnreachable, onWait: (error) => options.onWait?.(waitingLine(options, error)) },
  );
}
