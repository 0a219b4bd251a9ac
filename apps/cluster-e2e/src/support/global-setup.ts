import { join } from 'node:path';
import type { PrivateRedisCluster } from '@taskq/testing';

declare global {
  var taskqSharedCluster: PrivateRedisCluster | undefined;
}

/** One cluster for the run: three masters, one replica each. Test workers read it from the environment. */
export default async function globalSetup(): Promise<void> {
  // Jest's moduleNameMapper does not apply to global set-up: resolve @taskq/* to the sources here.
  require('tsconfig-paths').register({ baseUrl: join(__dirname, '../../../..'), paths: { '@taskq/*': ['libs/*/src/index.ts'] }, addMatchAll: false });
  const { startPrivateRedisCluster } = await import('@taskq/testing');
  const cluster = await startPrivateRedisCluster({ masters: 3, replicas: 1 });
  globalThis.taskqSharedCluster = cluster;
  process.env['TEST_REDIS_URL'] = cluster.url;
  process.env['TEST_REDIS_MODE'] = 'cluster';
}
