import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_API_KEY, deleteRedisPrefix, testDatabase, uniquePrefix, waitForHttp, type AppProcess } from '@taskq/testing';
import { WORKSPACE_ROOT, freePort, startBuiltApp } from '../support/built-apps';

/**
 * The SDK as its users get it: built and packed with `npm pack`, installed from the tarball in
 * an empty folder, type-checked there against its bundled declarations (a sleep payload for an
 * email task must not compile), and run with plain node against the real API and worker.
 */
jest.setTimeout(180_000);

const run = promisify(execFile);
const db = testDatabase('e2e_client_pkg');
const prefix = uniquePrefix('e2e-client-pkg');
const folder = mkdtempSync(join(tmpdir(), 'taskq-client-'));
let api: AppProcess;
let worker: AppProcess;
let baseUrl: string;

const CONSUMER_TS = `
import { TaskqClient, TaskqError, type TaskView } from '@taskq/client';

const client = new TaskqClient({ url: 'http://localhost:3000', apiKey: 'k' });
export async function typed(): Promise<TaskView> {
  await client.submit('email', { to: ['ops@example.com'], subject: 'Hi', text: 'x' });
  await client.submit('sleep', { ms: 5 }, { priority: 1, callbackUrl: 'https://example.com/hook' });
  // @ts-expect-error a sleep payload is not an email payload
  await client.submit('email', { ms: 5 });
  // @ts-expect-error no such task type
  await client.submit('fax', {});
  await client.submitMany([{ type: 'noop', payload: {} }, { type: 'sleep', payload: { ms: 1 } }]);
  const error: unknown = undefined;
  if (error instanceof TaskqError) console.log(error.problem.detail, error.status);
  return client.wait('id', { onProgress: (progress) => console.log(progress) });
}
`;

const CONSUMER_JS = `
const { TaskqClient, TaskqError } = require('@taskq/client');
(async () => {
  const client = new TaskqClient({ url: process.env.TASKQ_URL, apiKey: process.env.TASKQ_KEY });
  const types = (await client.types()).map((t) => t.type);
  const { id } = await client.submit('sleep', { ms: 800 });
  const progress = [];
  const task = await client.wait(id, { onProgress: (value) => progress.push(value) });
  const listed = [];
  for await (const summary of client.list({ type: 'sleep', limit: 1 })) listed.push(summary.id);
  let problem = null;
  try {
    await client.submit('sleep', {});
  } catch (error) {
    problem = error instanceof TaskqError ? { status: error.status, type: error.problem.type, fields: error.problem.errors.map((e) => e.field) } : String(error);
  }
  const bulk = await client.submitMany([{ type: 'noop', payload: {} }, { type: 'noop', payload: {} }]);
  console.log(JSON.stringify({ types, status: task.status, result: task.result, progress, listed, id, problem, bulk: bulk.count }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
  api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, WORKER_ID: 'e2e-client-worker' });
});

afterAll(async () => {
  const codes = await Promise.all([worker?.stop(), api?.stop()]);
  rmSync(folder, { recursive: true, force: true });
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0]);
});

it('packs, installs from the tarball alone, type-checks against its bundled declarations, and drives the live API', async () => {
  await run(process.execPath, [join(WORKSPACE_ROOT, 'libs/client/build-package.mjs')], { cwd: WORKSPACE_ROOT });
  await run('npm', ['pack', '--silent', '--pack-destination', folder], { cwd: join(WORKSPACE_ROOT, 'dist/client-package') });
  const tarball = readdirSync(folder).find((name) => name.endsWith('.tgz'));
  expect(tarball).toBe('taskq-client-0.1.0.tgz');

  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--offline', `./${tarball}`], { cwd: folder });
  expect(readdirSync(join(folder, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['@taskq']);

  writeFileSync(join(folder, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(
    join(folder, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [] }, files: ['consumer.ts'] }),
  );
  // Fails on a type error, and on an @ts-expect-error that expects none (the payload typing gone).
  await run(join(WORKSPACE_ROOT, 'node_modules/.bin/tsc'), ['-p', folder], { cwd: folder });

  writeFileSync(join(folder, 'consumer.cjs'), CONSUMER_JS);
  const { stdout } = await run(process.execPath, ['consumer.cjs'], { cwd: folder, env: { ...process.env, TASKQ_URL: baseUrl, TASKQ_KEY: TEST_API_KEY } });
  const outcome = JSON.parse(stdout) as { types: string[]; status: string; result: unknown; progress: number[]; listed: string[]; id: string; problem: unknown; bulk: number };
  expect(outcome.types).toEqual(expect.arrayContaining(['email', 'webhook', 'report', 'noop', 'sleep']));
  expect(outcome).toMatchObject({ status: 'completed', result: { sleptMs: 800 }, listed: [outcome.id], bulk: 2 });
  expect(outcome.progress.length).toBeGreaterThan(0);
  expect(outcome.progress.at(-1)).toBe(100);
  expect(outcome.problem).toEqual({ status: 400, type: '/problems/validation-error', fields: ['payload.ms'] });
});
