/**
 * What every section shares: the run's database and Redis prefixes, its child processes, the
 * CPU groups, and the clean-up that removes all of it (on success, failure and Ctrl-C).
 */
import { join } from 'node:path';
import type { TaskType } from '@taskq/contracts';
import { openPreparedDataSource } from '@taskq/persistence';
import {
  REPO_ROOT,
  deleteRedisPrefix,
  dropDatabase,
  freePort,
  postgresPidsFor,
  startNode,
  waitForHttp,
  withClient,
  withDatabase,
  type BenchConfig,
  type ChildApp,
  type CpuGroups,
} from './support';

/** The API under test accepts this as its bootstrap admin key (API_KEY). */
export const BENCH_API_KEY = 'taskq-bench-bootstrap-admin-key-0123456789';

export const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** Concurrency of the noop queue in every worker the bench starts (the setting). */
export const NOOP_CONCURRENCY = 50;

export interface RunningApi {
  app: ChildApp;
  url: string;
}

export interface BenchContext {
  readonly config: BenchConfig;
  readonly run: string;
  readonly databaseName: string;
  readonly databaseUrl: string;
  /** The bench process, redis-server and PostgreSQL (server processes and this database's backends). */
  readonly cpuGroups: CpuGroups;
  /** Upper bound of every single wait, in ms. */
  readonly waitMs: number;
  /** Every child started so far, in order (for the memory and profile reports). */
  readonly children: ChildApp[];
  /** Where the .cpuprofile files go (only with --profile). */
  readonly profileDir: string | undefined;
  /** A fresh BullMQ prefix, `bench-<section>-<run>`, deleted at clean-up. */
  prefix(section: string): string;
  startApi(section: string, prefix: string): Promise<RunningApi>;
  /** A worker process serving one queue (default: noop at NOOP_CONCURRENCY); `id` tells several of one section apart. */
  startWorker(section: string, prefix: string, serve?: { type: TaskType; concurrency: number }, id?: string): ChildApp;
  /** One statement on its own connection; counted in {@link ownQueries}. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Statements the bench itself ran in the bench database (subtracted from its commit counter). */
  ownQueries(): number;
  /** Empty tables for the next section. */
  resetTables(): Promise<void>;
  /**
   * Statistics for the bench's own check queries (autovacuum may be off: without them the
   * planner can pick a nested loop over a sequential scan for an id list of 50,000).
   * Only run outside measured windows.
   */
  analyze(): Promise<void>;
  /**
   * Creates and migrates the bench database, as the API would at start-up, so that any section
   * can run alone (the worker's too, which waits for a migrated schema).
   */
  createDatabase(): Promise<void>;
}

/** The run's context; `cleanup` is safe to call at any time, also before anything was created. */
export function createContext(config: BenchConfig, run: string, redisPid: number): { context: BenchContext; cleanup: () => Promise<void> } {
  const databaseName = `taskq_bench_${run}`;
  const databaseUrl = withDatabase(config.postgresUrl, databaseName);
  const prefixes: string[] = [];
  const children: ChildApp[] = [];
  let ownQueries = 0;

  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const child of [...children].reverse()) await child.stop(10_000).catch(() => undefined);
      for (const prefix of prefixes) {
        await deleteRedisPrefix(config.redisUrl, prefix).catch((error: Error) => log(`could not delete Redis keys ${prefix}:*: ${error.message}`));
      }
      await dropDatabase(config.postgresUrl, databaseName).catch((error: Error) => log(`could not drop database ${databaseName}: ${error.message}`));
    })());

  const context: BenchContext = {
    config,
    run,
    databaseName,
    databaseUrl,
    cpuGroups: { 'bench process': [process.pid], 'redis-server': [redisPid], postgres: postgresPidsFor(databaseName) },
    waitMs: config.timeoutS * 1_000,
    children,
    profileDir: config.profile ? join(REPO_ROOT, 'test-output', 'bench-profile', run) : undefined,
    prefix(section) {
      const prefix = `bench-${section}-${run}`;
      prefixes.push(prefix);
      return prefix;
    },
    async startApi(section, prefix) {
      const port = await freePort();
      const app = startNode(
        `taskq api (${section})`,
        'dist/apps/api/src/main.js',
        {
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: config.redisUrl,
          DATABASE_URL: databaseUrl,
          QUEUE_PREFIX: prefix,
          LOG_LEVEL: 'warn',
          // Every request is authenticated and counted against its key's rate limit, as in
          // production; the limit is set high enough never to trip.
          API_KEY: BENCH_API_KEY,
          RATE_LIMIT_REQUESTS: '10000000',
          // The backlog check runs as in production (a cached count per second), but no
          // section may be refused for its size: the API section alone queues ~100,000 jobs.
          MAX_BACKLOG: '1000000000',
        },
        `${section}-api`,
      );
      children.push(app);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/health/ready`, app, Math.min(context.waitMs, 60_000));
      return { app, url };
    },
    startWorker(section, prefix, serve = { type: 'noop', concurrency: NOOP_CONCURRENCY }, id = section) {
      const worker = startNode(
        `taskq worker (${id})`,
        'dist/apps/worker/src/main.js',
        {
          REDIS_URL: config.redisUrl,
          DATABASE_URL: databaseUrl,
          QUEUE_PREFIX: prefix,
          LOG_LEVEL: 'warn',
          WORKER_QUEUES: serve.type,
          WORKER_CONCURRENCY: `${serve.type}=${serve.concurrency}`,
          METRICS_PORT: '-1',
          WORKER_ID: `bench-worker-${id}`,
        },
        `${id}-worker`,
      );
      children.push(worker);
      return worker;
    },
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      ownQueries++;
      return withClient(databaseUrl, async (client) => (await client.query(sql, params)).rows as T[]);
    },
    ownQueries: () => ownQueries,
    async resetTables() {
      // CASCADE: the callback tables (and any later one) refer to tasks.
      await context.query('TRUNCATE task_attempts, tasks CASCADE');
    },
    async analyze() {
      await context.query('ANALYZE tasks, task_attempts');
    },
    async createDatabase() {
      const dataSource = await openPreparedDataSource({ url: databaseUrl, poolSize: 2 });
      await dataSource.destroy();
    },
  };
  return { context, cleanup };
}

/** Commits of the bench database; WAL position and WAL flushes (fsyncs) of the whole server. */
export async function databaseCounters(databaseUrl: string): Promise<{ commits: number; walLsn: string; walSyncs: number }> {
  return withClient(databaseUrl, async (client) => {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ commits: string; lsn: string; syncs: string }>(
      `SELECT xact_commit::text AS commits, pg_current_wal_lsn()::text AS lsn, (SELECT wal_sync FROM pg_stat_wal)::text AS syncs
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { commits: Number(rows[0]?.commits ?? NaN), walLsn: rows[0]?.lsn ?? '0/0', walSyncs: Number(rows[0]?.syncs ?? NaN) };
  });
}

export async function walBytesBetween(databaseUrl: string, from: string, to: string): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes`, [to, from]);
    return Number(rows[0]?.bytes ?? NaN);
  });
}
