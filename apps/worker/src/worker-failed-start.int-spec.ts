import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WorkerConfig, loadConfig } from '@taskq/config';
import { openPreparedDataSource } from '@taskq/persistence';
import { TEST_REDIS_URL, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { createWorkerApp } from './worker-app';

jest.setTimeout(60_000);

// Nothing else in this file keeps a connection open: the set-up's closed before the test starts.
const openConnections = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;

describe(`${createWorkerApp.name} that fails to start`, () => {
  const db = testDatabase('worker_failed_start');
  const prefix = uniquePrefix('worker-failed-start');
  let portTaker: Server;
  let takenPort: number;

  beforeAll(async () => {
    // The API creates and migrates the database; the worker only waits for it.
    await (await openPreparedDataSource({ url: db.url })).destroy();
    portTaker = createServer();
    await new Promise<void>((resolve) => portTaker.listen(0, '127.0.0.1', resolve));
    takenPort = (portTaker.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => portTaker.close(() => resolve()));
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('rejects when its metrics port is taken, and leaves no connection open', async () => {
    const config = loadConfig(WorkerConfig, {
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: String(takenPort),
      METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: 'fatal',
    });
    await expect(createWorkerApp(config)).rejects.toThrow(/EADDRINUSE/);
    await waitFor(() => openConnections() === 0, { description: 'every Redis and PostgreSQL connection closed', timeoutMs: 5_000 });
  });
});
