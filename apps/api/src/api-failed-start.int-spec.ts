import { ApiConfig, loadConfig } from '@taskq/config';
import { TEST_REDIS_URL, waitFor } from '@taskq/testing';
import { createApiApp } from './api-app';

jest.setTimeout(30_000);

// Nothing else in this file keeps a connection open.
const openConnections = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;

describe(`${createApiApp.name} that fails to start`, () => {
  it('rejects when PostgreSQL does not answer after Redis did, and leaves no connection open', async () => {
    const config = loadConfig(ApiConfig, {
      REDIS_URL: TEST_REDIS_URL,
      // Port 1: nothing listens there.
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/taskq_unreachable',
      STARTUP_CHECK_TIMEOUT_MS: '200',
      LOG_LEVEL: 'fatal',
    });
    await expect(createApiApp(config)).rejects.toThrow(/ECONNREFUSED|PostgreSQL/);
    await waitFor(() => openConnections() === 0, { description: 'every Redis and PostgreSQL connection closed', timeoutMs: 5_000 });
  });
});
