import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StartupFailure, failureReason, redactUrl, waitAtStartup } from '@taskq/config';
import { withTimeout } from './with-timeout';

/**
 * `producer`: API-side. Fails fast (no offline queue, a command timeout) so a submission
 * during a Redis outage gets a 503 at once instead of hanging.
 * `worker`: blocking commands must wait out outages, so requests never give up.
 */
export type RedisRole = 'producer' | 'worker';

/** A connection to one Redis server or to a Redis Cluster: every taskq module works with either. */
export type RedisConnection = Redis | Cluster;

/** A producer command that has no answer by then fails (a hung or partitioned Redis answers 503, not never). */
export const PRODUCER_COMMAND_TIMEOUT_MS = 5_000;

export interface ClusterTarget {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_URL = /^(rediss?)-cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/?$/;

/**
 * The seed nodes of a `redis-cluster://[user:password@]host1:7000,host2:7001` URL
 * (`rediss-cluster://` for TLS), or null for a plain `redis://` URL. Any one reachable seed
 * is enough: the client learns the rest of the cluster from it.
 */
export function clusterTargetOf(url: string): ClusterTarget | null {
  const match = CLUSTER_URL.exec(url);
  if (!match) return null;
  const [, scheme, username, password, hosts] = match;
  const nodes = (hosts ?? '').split(',').map((host) => {
    const node = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(host.trim());
    if (!node) throw new Error(`REDIS_URL: "${host}" is not a host:port of a cluster node`);
    return { host: node[1] ?? node[2] ?? '', port: node[3] ? Number(node[3]) : 6379 };
  });
  return {
    nodes,
    tls: scheme === 'rediss',
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
}

export function redisOptionsFor(role: RedisRole): RedisOptions {
  return role === 'producer'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }
    : { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 5_000 };
}

/**
 * Cluster options for a role. The offline queue is a cluster-level setting there: a producer
 * refuses commands while the cluster is not ready (during a fail-over election), which the
 * API answers with 503; a worker's commands wait for the cluster to come back.
 */
function clusterOptionsFor(target: ClusterTarget, role: RedisRole, extra: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, ...nodeOptions } = { ...redisOptionsFor(role), ...extra };
  return {
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: true,
    redisOptions: {
      ...nodeOptions,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}

export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): RedisConnection {
  const cluster = clusterTargetOf(url);
  const connection = cluster ? new Cluster(cluster.nodes, clusterOptionsFor(cluster, role, extra)) : new Redis(url, { ...redisOptionsFor(role), ...extra });
  // Errors surface through commands and health checks; an unhandled 'error' event would crash.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * A connection that is ready for commands (producer connections refuse them until then), or
 * an error after `timeoutMs`.
 */
export async function connectRedis(url: string, role: RedisRole, timeoutMs: number): Promise<RedisConnection> {
  const connection = createRedisConnection(url, role);
  if (connection.status === 'ready') return connection;
  try {
    const ready = new Promise<void>((resolve) => connection.once('ready', () => resolve()));
    await withTimeout(ready, timeoutMs, `no connection to Redis at ${redactUrl(url)} within ${timeoutMs} ms`);
    return connection;
  } catch (error) {
    connection.disconnect();
    throw error;
  }
}

/** The servers that hold data: the one server, or every master of a cluster. */
export function dataNodesOf(connection: RedisConnection): Redis[] {
  return connection instanceof Cluster ? connection.nodes('master') : [connection];
}

/**
 * Start-up check: PING, tried again until it answers or `timeoutMs` has passed. Throws a
 * StartupFailure naming the URL and how to start Redis. An eviction policy other than
 * noeviction is reported through `warn`: Redis would silently drop queued jobs under memory
 * pressure. `warn` also hears, once, that start-up waits. A cluster must also say its state
 * is ok (every slot served).
 */
export async function checkRedis(url: string, timeoutMs: number, warn: (message: string) => void = () => undefined): Promise<void> {
  await waitAtStartup((remainingMs) => pingRedis(url, remainingMs, warn), timeoutMs, {
    onWait: (error) => warn(`waiting up to ${timeoutMs} ms for Redis at ${redactUrl(url)}: ${failureReason(error)}`),
  }).catch((error: unknown) => {
    throw new StartupFailure(
      `cannot reach Redis at ${redactUrl(url)} within ${timeoutMs} ms (${failureReason(error)}). Start it ` +
        `(redis-server --daemonize yes --maxmemory-policy noeviction, or docker compose up -d redis) or set REDIS_URL.`,
    );
  });
}

/** A connection for one check: it tries once, and never waits in a queue. */
function probeConnection(url: string, timeoutMs: number): RedisConnection {
  const once: RedisOptions = { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false };
  const cluster = clusterTargetOf(url);
  if (!cluster) return new Redis(url, once);
  return new Cluster(cluster.nodes, { ...clusterOptionsFor(cluster, 'producer', once), lazyConnect: true, clusterRetryStrategy: () => null });
}

async function pingRedis(url: string, timeoutMs: number, warn: (message: string) => void): Promise<void> {
  const client = probeConnection(url, timeoutMs);
  // connect() only says "Connection is closed": the socket's error says why (ECONNREFUSED, ENOTFOUND).
  let socketError: Error | undefined;
  // A cluster client says "Failed to refresh slots cache": its last node's error says why.
  client.on('error', (error: Error & { lastNodeError?: Error }) => (socketError = error.lastNodeError ?? error));
  try {
    await withTimeout(client.connect(), timeoutMs).catch((error: unknown) => {
      throw socketError ?? error;
    });
    await withTimeout(client.ping(), timeoutMs);
    if (client instanceof Cluster) {
      const info = await withTimeout(client.cluster('INFO'), timeoutMs);
      if (!/cluster_state:ok/.test(String(info))) throw new Error('the cluster is not ok (cluster_state is not ok: are all slots served?)');
    }
    for (const node of dataNodesOf(client)) {
      // Managed Redis services may refuse CONFIG: then there is nothing to check.
      const policy = await node.config('GET', 'maxmemory-policy').catch(() => null);
      const value = Array.isArray(policy) && typeof policy[1] === 'string' ? policy[1] : null;
      if (value !== null && value !== 'noeviction') {
        warn(`Redis at ${redactUrl(url)} runs with maxmemory-policy ${value}: set it to noeviction, or queued jobs may be evicted`);
        break;
      }
    }
  } finally {
    client.disconnect();
  }
}
