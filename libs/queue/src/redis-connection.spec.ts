import { Cluster, Redis } from 'ioredis';
import { redactUrl } from '@taskq/config';
import { clusterTargetOf, createRedisConnection } from './redis-connection';
import { isRedisOutage } from './redis-outage';

describe('REDIS_URL', () => {
  it('names a cluster by its seed nodes, with credentials and TLS', () => {
    expect(clusterTargetOf('redis-cluster://10.0.0.1:7000,10.0.0.2:7001,redis-3')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-3', port: 6379 },
      ],
      tls: false,
    });
    expect(clusterTargetOf('rediss-cluster://app:p%40ss@[::1]:7000')).toEqual({ nodes: [{ host: '::1', port: 7000 }], username: 'app', password: 'p@ss', tls: true });
  });

  it('leaves a plain URL to a single server', () => {
    expect(clusterTargetOf('redis://127.0.0.1:6379')).toBeNull();
    expect(clusterTargetOf('rediss://user:secret@host:6380/2')).toBeNull();
  });

  it('refuses a node that is not host:port', () => {
    expect(() => clusterTargetOf('redis-cluster://a:7000,b:port')).toThrow(/"b:port" is not a host:port/);
  });

  it('opens a Cluster client for a cluster URL and a Redis client otherwise, without connecting first', () => {
    const cluster = createRedisConnection('redis-cluster://127.0.0.1:1,127.0.0.1:2', 'worker', { lazyConnect: true });
    const single = createRedisConnection('redis://127.0.0.1:1', 'worker', { lazyConnect: true });
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(single).toBeInstanceOf(Redis);
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });

  it('hides the password of a cluster URL in messages', () => {
    expect(redactUrl('redis-cluster://app:secret@a:7000,b:7001')).toBe('redis-cluster://app:***@a:7000,b:7001');
    expect(redactUrl('redis-cluster://a:7000,b:7001')).toBe('redis-cluster://a:7000,b:7001');
  });

  it('counts a cluster in the middle of a fail-over as an outage (a 503), not a bug', () => {
    expect(isRedisOutage(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisOutage(new Error('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisOutage(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});
