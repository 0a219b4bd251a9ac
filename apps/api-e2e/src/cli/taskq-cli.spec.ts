import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_API_KEY, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { WORKSPACE_ROOT, freePort, startBuiltApp } from '../support/built-apps';

/** The `taskq` CLI as a real process (bin/taskq.cjs, what `npx taskq` runs) against the built API and worker: output, --json and exit codes. */
jest.setTimeout(120_000);

const db = testDatabase('e2e_cli');
const prefix = uniquePrefix('e2e-cli');
const folder = mkdtempSync(join(tmpdir(), 'taskq-cli-'));
let api: AppProcess;
let worker: AppProcess;
let cliEnv: NodeJS.ProcessEnv;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function taskq(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(WORKSPACE_ROOT, 'bin/taskq.cjs'), ...args], { cwd: folder, env: cliEnv }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const json = <T>(run: Run): T => JSON.parse(run.stdout) as T;

beforeAll(async () => {
  const port = await freePort();
  const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE: 'true' };
  api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`http://127.0.0.1:${port}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, WORKER_ID: 'e2e-cli-worker' });
  // The folder has no .taskq: no development key is picked up by accident.
  cliEnv = { ...process.env, TASKQ_URL: `http://127.0.0.1:${port}`, TASKQ_KEY: TEST_API_KEY, NODE_ENV: 'test' };
});

afterAll(async () => {
  const codes = await Promise.all([worker?.stop(), api?.stop()]);
  rmSync(folder, { recursive: true, force: true });
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0]);
});

it('lists the task types, as a table and as JSON', async () => {
  const human = await taskq('types');
  expect(human).toMatchObject({ code: 0 });
  expect(human.stdout).toMatch(/│ sleep\s+│/);
  const types = json<Array<{ type: string }>>(await taskq('types', '--json')).map((t) => t.type);
  expect(types).toEqual(expect.arrayContaining(['email', 'webhook', 'report', 'noop', 'sleep']));
});

it('submits with --wait, following the task to its result (exit 0), and reads it back with get and list', async () => {
  const waited = await taskq('submit', 'sleep', '--payload', '{"ms":700}', '--wait');
  expect(waited.code).toBe(0);
  expect(waited.stdout).toMatch(/^task [0-9a-f-]{36} completed\n/);
  expect(waited.stdout).toContain('"sleptMs": 700');
  expect(waited.stderr).toMatch(/progress \d+/);
  const id = /^task (\S+) completed/.exec(waited.stdout)?.[1] as string;

  const got = json<{ id: string; status: string; progress: number }>(await taskq('get', id, '--json'));
  expect(got).toMatchObject({ id, status: 'completed', progress: 100 });
  const listed = await taskq('list', '--status', 'completed', '--type', 'sleep', '--limit', '5');
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(id);
  expect(json<Array<{ id: string }>>(await taskq('list', '--type', 'sleep', '--json')).map((t) => t.id)).toContain(id);
});

it('takes the payload from a file with @file.json', async () => {
  writeFileSync(join(folder, 'payload.json'), JSON.stringify({ note: 'from a file' }));
  const submitted = json<{ id: string; status: string }>(await taskq('submit', 'noop', '--payload', '@payload.json', '--json'));
  expect(submitted.status).toBe('queued');
  expect(json<{ payload: unknown }>(await taskq('get', submitted.id, '--json')).payload).toEqual({ note: 'from a file' });
});

it('refuses a bad payload with the reason on stderr and exit 1; --json puts the problem document there', async () => {
  const human = await taskq('submit', 'sleep', '--payload', '{}');
  expect(human.code).toBe(1);
  expect(human.stderr).toMatch(/400 .*payload\.ms: ms is required/);
  const machine = await taskq('submit', 'sleep', '--payload', '{}', '--json');
  expect(machine.code).toBe(1);
  expect(JSON.parse(machine.stderr)).toMatchObject({ status: 400, type: '/problems/validation-error', errors: [{ field: 'payload.ms' }] });
});

it('exits 2 on usage errors', async () => {
  expect((await taskq('submit')).code).toBe(2);
  expect((await taskq('submit', 'noop', '--payload', 'not json')).code).toBe(2);
  expect((await taskq('frobnicate')).code).toBe(2);
});

it('exits 3 when a waited task ends dead, and the dead-letter queue lists it', async () => {
  const run = await taskq('submit', 'webhook', '--payload', '{"url":"http://127.0.0.1:9/nothing"}', '--max-attempts', '1', '--wait');
  expect(run.code).toBe(3);
  const id = /^task (\S+) dead/.exec(run.stdout)?.[1] as string;
  expect(id).toBeDefined();
  expect(json<Array<{ id: string }>>(await taskq('dlq', 'list', '--json')).map((t) => t.id)).toContain(id);
});

it('exits 4 when a watched task is cancelled', async () => {
  const { id } = json<{ id: string }>(await taskq('submit', 'sleep', '--payload', '{"ms":60000}', '--json'));
  const watcher = spawn(process.execPath, [join(WORKSPACE_ROOT, 'bin/taskq.cjs'), 'watch', id], { cwd: folder, env: cliEnv });


  const exited = new Promise<number | null>((resolve) => watcher.on('exit', resolve));
  await waitFor(async () => json<{ status: string }>(await taskq('get', id, '--json')).status === 'active', { timeoutMs: 20_000, description: 'the sleep runs' });
  const cancelled = await taskq('cancel', id);
  expect(cancelled).toMatchObject({ code: 0, stdout: expect.stringContaining(`${id} cancelled (was active)`) });
  expect(await exited).toBe(4);
});

it('manages keys through the API, and schedules', async () => {
  const created = json<{ key: string; prefix: string }>(await taskq('keys', 'create', '--name', 'cli-made', '--scopes', 'tasks:read', '--tenant', 'acme', '--json'));
  expect(created.key).toMatch(/^tq_/);
  const listed = await taskq('keys', 'list');
  expect(listed.stdout).toContain(created.prefix);
  expect(listed.stdout).not.toContain(created.key);
  expect((await taskq('keys', 'revoke', created.prefix)).code).toBe(0);
  // The revoked key is refused: exit 1 with the API's 401.
  await waitFor(async () => (await taskq('list', '--key', created.key)).code === 1, { timeoutMs: 15_000, description: 'the revoked key refused' });

  const schedule = await taskq('schedules', 'create', 'cli-nightly', '--cron', '0 3 * * *', '--type', 'report', '--payload', '{"windowMinutes":60}');
  expect(schedule).toMatchObject({ code: 0, stdout: expect.stringContaining('created schedule cli-nightly') });
  expect(json<Array<{ name: string }>>(await taskq('schedules', 'list', '--json')).map((s) => s.name)).toContain('cli-nightly');
  expect((await taskq('schedules', 'delete', 'cli-nightly')).code).toBe(0);
  expect((await taskq('schedules', 'delete', 'cli-nightly')).code).toBe(1);
});
