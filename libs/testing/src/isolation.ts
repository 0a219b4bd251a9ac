import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** `cluster` when a suite runs against a private Redis Cluster (apps/cluster-e2e sets it with TEST_REDIS_URL). */
export const TEST_REDIS_MODE: 'single' | 'cluster' = process.env['TEST_REDIS_MODE'] === 'cluster' ? 'cluster' : 'single';
export const TEST_POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const suffix = (): string => randomBytes(5).toString('hex');

/** A BullMQ key prefix no other test file (or earlier run) uses. */
export function uniquePrefix(label: string): string {
  return `test-${label.replace(/[^A-Za-z0-9_-]/g, '')}-${suffix()}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A database URL whose database does not exist yet (the code under test creates it, as in
 * production). `drop()` removes it, connections and all.
 */
export function testDatabase(label: string): TestDatabase {
  const name = `taskq_test_${label.replace(/[^A-Za-z0-9_]/g, '_')}_${suffix()}`.toLowerCase().slice(0, 63);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A test's own client of `url`: a plain connection, or a cluster client for the
 * `redis-cluster://host:port,...` URLs that private clusters hand out.
 */
export function testRedisClient(url: string, options: RedisOptions = {}): Redis | Cluster {
  const cluster = /^redis-cluster:\/\/([^/]+)$/.exec(url);
  if (!cluster) return new Redis(url, options);
  const nodes = (cluster[1] ?? '').split(',').map((node) => ({ host: node.split(':')[0] ?? '', port: Number(node.split(':')[1]) }));
  return new Cluster(nodes, { redisOptions: options, lazyConnect: options.lazyConnect ?? false });
}

/** Deletes every Redis key under a test prefix (on every master of a cluster). */
export async function deleteRedisPrefix(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const redis = testRedisClient(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One key per command: on a cluster node, keys of different slots cannot share one.
        if (keys.length > 0) await Promise.all(keys.map((key) => node.unlink(key)));
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** Runs a query against a test database and returns its rows. */
export async function queryDatabase<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
