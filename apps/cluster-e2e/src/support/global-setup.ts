import './register-paths';
import { startPrivateRedisCluster, type PrivateRedisCluster } from '@taskq/testing';

declare global {
  var taskqSharedCluster: PrivateRedisCluster | undefined;
}

/** One cluster for the run: three masters, one replica each. Test workers read it from the environment. */
export default async function globalSetup(): Promise<void> {
  const cluster = await startPrivateRedisCluster({ masters: 3, replicas: 1 });
  globalThis.taskqSharedCluster = cluster;
  process.env['TEST_REDIS_URL'] = cluster.url;
  process.env['TEST_REDIS_MODE'] = 'cluster';
}
