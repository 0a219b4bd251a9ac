import { startPrivateRedis, testDatabase, uniquePrefix, waitFor, type PrivateRedis } from '@taskq/testing';
import { startBuiltApp } from './support/built-apps';

/**
 * SIGTERM to a monitor whose Redis went away: BullMQ's closes wait for Redis as long as it is
 * gone, so each part holding a BullMQ worker or event reader gives up after
 * SHUTDOWN_TIMEOUT_MS, and the process exits 0 instead of waiting for a SIGKILL.
 */
describe('monitor shutdown while Redis is away', () => {
  const db = testDatabase('e2e_monitor_shutdown');
  const prefix = uniquePrefix('e2e-monitor-shutdown');
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis?.stop();
    await db.drop();
  });

  it('exits 0 within a few SHUTDOWN_TIMEOUT_MS', async () => {
    const monitor = startBuiltApp('monitor', {
      DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
      METRICS_PORT: '-1', SHUTDOWN_TIMEOUT_MS: '1000', RECONCILE_INTERVAL_MS: '0',
    });
    try {
      await waitFor(() => monitor.output().includes('taskq monitor started'), { timeoutMs: 30_000, description: 'the monitor started' });
      await redis.stop();
      monitor.child.kill('SIGTERM');
      const signalledAt = Date.now();
      const code = await Promise.race([monitor.exited(), new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000).unref())]);
      expect({ code, output: code === 0 ? '' : monitor.output() }).toEqual({ code: 0, output: '' });
      expect(Date.now() - signalledAt).toBeLessThan(20_000);
      expect(monitor.output()).toMatch(/the schedule worker did not stop within 1000 ms/);
      expect(monitor.output()).toMatch(/the queue event readers did not stop within 1000 ms/);
    } finally {
      await monitor.stop(1_000);
    }
  }, 60_000);
});
