import { testDatabase, uniquePrefix } from '@taskq/testing';
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
    const process = startBuiltApp(app, { QUEUE_PREFIX: uniquePrefix('startup'), STARTUP_CHECK_TIMEOUT_MS: '3000', ...env });
    const code = await process.exited();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).not.toBe(0);
    const lines = process.output().trim().split('\n').filter((line) => line.startsWith('taskq '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(process.output()).not.toMatch(/\n\s+at /);
  });
});
