import { freePort, startPrivatePostgres, startPrivateRedis, testDatabase, uniquePrefix, waitFor, waitForHttp } from '@taskq/testing';
import { startBuiltApp, type BuiltApp } from './support/built-apps';

/** Unreachable services: one clear line naming the URL and how to start it, non-zero exit within 10 s. */
describe('start-up with a service down', () => {
  const db = testDatabase('e2e_startup');

  afterAll(() => db.drop());

  it.each<[string, BuiltApp, Record<string, string>, RegExp]>([
    ['api, Redis down', 'api', { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: db.url }, /^taskq api: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*Start it/],
    ['api, PostgreSQL down', 'api', { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/taskq' }, /^taskq api: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/taskq .*Start it/],
    ['worker, Redis down', 'worker', { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: db.url, METRICS_PORT: '-1' }, /^taskq worker: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /],
    ['worker, PostgreSQL down', 'worker', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/taskq', METRICS_PORT: '-1' }, /^taskq worker: cannot reach PostgreSQL at /],
    ['worker, schema never migrated', 'worker', { DATABASE_URL: db.url, SCHEMA_WAIT_TIMEOUT_MS: '500', METRICS_PORT: '-1' }, /^taskq worker: the database schema is not migrated after 500 ms\. Start the API/],
    ['api, bad configuration', 'api', { PORT: 'http' }, /^taskq api: invalid configuration: PORT="http"/],
    ['api, production without any API key', 'api', { DATABASE_URL: db.url, NODE_ENV: 'production', API_KEY: '' }, /^taskq api: refusing to start in production without an API key: set API_KEY/],
    ['api, an API key too short to be safe', 'api', { API_KEY: 'secret' }, /^taskq api: invalid configuration: API_KEY=\(hidden\): must be at least 32 characters/],
    ['monitor, Redis down', 'monitor', { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: db.url, METRICS_PORT: '-1' }, /^taskq monitor: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*Start it/],
    ['monitor, PostgreSQL down', 'monitor', { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/taskq', METRICS_PORT: '-1' }, /^taskq monitor: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/taskq .*Start it/],
    ['monitor, bad configuration', 'monitor', { RETENTION_CRON: 'nightly', ALERT_WEBHOOK_URL: 'hooks.example.com' }, /^taskq monitor: invalid configuration: .*ALERT_WEBHOOK_URL="hooks\.example\.com".*RETENTION_CRON="nightly": must be a cron pattern/],
  ])('%s', async (_case, app, env, message) => {
    const started = Date.now();
    const process = startBuiltApp(app, { QUEUE_PREFIX: uniquePrefix('startup'), STARTUP_CHECK_TIMEOUT_MS: '1000', ...env });
    const code = await process.exited();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).not.toBe(0);
    const lines = process.output().trim().split('\n').filter((line) => line.startsWith('taskq '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(process.output()).not.toMatch(/\n\s+at /);
  });
});

/** A service that comes up within STARTUP_CHECK_TIMEOUT_MS: the app says it waits, then starts. No crash loop under an orchestrator. */
describe('start-up with a service that comes up late', () => {
  const db = testDatabase('e2e_startup_late');
  const stops: Array<() => Promise<unknown>> = [];

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await db.drop();
  });

  // The monitor first: it creates and migrates the database the worker then waits for.
  it.each<[BuiltApp, Record<string, string>]>([
    ['monitor', { METRICS_PORT: '-1', RECONCILE_INTERVAL_MS: '0' }],
    ['worker', { METRICS_PORT: '-1' }],
  ])('%s waits for Redis', async (app, env) => {
    const port = await freePort();
    const process = startBuiltApp(app, { ...env, QUEUE_PREFIX: uniquePrefix('startup-late'), DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}`, STARTUP_CHECK_TIMEOUT_MS: '30000' });
    stops.push(() => process.stop());
    await waitFor(() => /waiting up to 30000 ms for Redis at redis:\/\/127\.0\.0\.1:\d+\/?: ECONNREFUSED/.test(process.output()), { timeoutMs: 15_000, description: 'the waiting line' });

    const redis = await startPrivateRedis({ port });
    stops.push(() => redis.stop());

    await waitFor(() => new RegExp(`taskq ${app} (\\S+ )?started`).test(process.output()), { timeoutMs: 30_000, description: `${app} started` });
    expect(process.child.exitCode).toBeNull();
  });

  it('api waits for PostgreSQL', async () => {
    const postgres = await startPrivatePostgres();
    stops.push(() => postgres.destroy());
    await postgres.stop();
    const port = await freePort();
    const url = postgres.url.replace(/\/postgres$/, '/taskq');
    const api = startBuiltApp('api', { PORT: String(port), QUEUE_PREFIX: uniquePrefix('startup-late'), DATABASE_URL: url, STARTUP_CHECK_TIMEOUT_MS: '30000' });
    stops.push(() => api.stop());
    await waitFor(() => /waiting up to 30000 ms for PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/taskq: ECONNREFUSED/.test(api.output()), {
      timeoutMs: 15_000,
      description: 'the waiting line',
    });

    await postgres.start();

    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, api, 30_000);
  });
});
