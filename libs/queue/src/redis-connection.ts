import { Redis, type RedisOptions } from 'ioredis';
import { StartupFailure, failureReason, redactUrl, waitAtStartup } from '@taskq/config';
import { withTimeout } from './with-timeout';

/**
 * `producer`: API-side. Fails fast (no offline queue, a command timeout) so a submission
 * during a Redis outage gets a 503 at once instead of hanging.
 * `worker`: blocking commands must wait out outages, so requests never give up.
 */
export type RedisRole = 'producer' | 'worker';

/** A producer command that has no answer by then fails (a hung or partitioned Redis answers 503, not never). */
export const PRODUCER_COMMAND_TIMEOUT_MS = 5_000;

export function redisOptionsFor(role: RedisRole): RedisOptions {
  return role === 'producer'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }
    : { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 5_000 };
}

export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const connection = new Redis(url, { ...redisOptionsFor(role), ...extra });
  // Errors surface through commands and health checks; an unhandled 'error' event would crash.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * A connection that is ready for commands (producer connections refuse them until then), or
 * an error after `timeoutMs`.
 */
export async function connectRedis(url: string, role: RedisRole, timeoutMs: number): Promise<Redis> {
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

/**
 * Start-up check: PING, tried again until it answers or `timeoutMs` has passed. Throws a
 * StartupFailure naming the URL and how to start Redis. An eviction policy other than
 * noeviction is reported through `warn`: Redis would silently drop queued jobs under memory
 * pressure. `warn` also hears, once, that start-up waits.
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

async function pingRedis(url: string, timeoutMs: number, warn: (message: string) => void): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() only says "Connection is closed": the socket's error says why (ECONNREFUSED, ENOTFOUND).
  let socketError: Error | undefined;
  client.on('error', (error: Error) => (socketError = error));
  try {
    await withTimeout(client.connect(), timeoutMs).catch((error: unknown) => {
      throw socketError ?? error;
    });
    await withTimeout(client.ping(), timeoutMs);
    // Managed Redis services may refuse CONFIG: then there is nothing to check.
    const policy = await client.config('GET', 'maxmemory-policy').catch(() => null);
    const value = Array.isArray(policy) && typeof policy[1] === 'string' ? policy[1] : null;
    if (value !== null && value !== 'noeviction') {
      warn(`Redis at ${redactUrl(url)} runs with maxmemory-policy ${value}: set it to noeviction, or queued jobs may be evicted`);
    }
  } finally {
    client.disconnect();
  }
}
