import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './app-process';
import { waitFor } from './wait-for';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** `pg_ctl stop`: `fast` ends sessions and shuts down cleanly, `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

/** Debian keeps each major version's server binaries under /usr/lib/postgresql/<major>/bin. */
function binDir(): string {
  const configured = process.env['PG_BIN_DIR'];
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) if (existsSync(join(root, major, 'bin', 'pg_ctl'))) return join(root, major, 'bin');
  throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: install postgresql, or set PG_BIN_DIR');
}

/**
 * A throw-away PostgreSQL server in a temporary directory, on a free loopback port, for tests
 * that stop or crash PostgreSQL on purpose. Root cannot run `postgres`: as root, initdb and
 * pg_ctl run as the `postgres` user, which owns the directory. No durability (fsync off).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'taskq-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (command: string, args: string[]): Promise<unknown> =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args);
  const data = join(dir, 'data');
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--encoding', 'UTF8']);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;

  const start = async (): Promise<void> => {
    await as('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    await waitFor(
      async () => {
        const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 30_000, intervalMs: 100, description: `PostgreSQL on port ${port}` },
    );
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await as('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']).catch((error: Error) => {
      if (!/is the server running|No such file|not running/i.test(`${error.message}${(error as { stderr?: string }).stderr ?? ''}`)) throw error;
    });
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async destroy() {
      await stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
