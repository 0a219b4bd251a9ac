import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_REDIS_URL, apiFetch, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { WORKSPACE_ROOT, freePort, startBuiltApp } from './support/built-apps';

/**
 * API keys with real processes: a developer's first start without any key, and the
 * `npm run keys` command (the built CLI) creating, listing and revoking keys the API honours.
 */
const db = testDatabase('e2e_api_keys');
const prefix = uniquePrefix('e2e-api-keys');
let api: AppProcess | undefined;
let baseUrl: string;

const run = promisify(execFile);
// What `npm run keys` runs: the taskq CLI's keys commands, straight in PostgreSQL.
const CLI = ['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), join(WORKSPACE_ROOT, 'dist/apps/cli/src/main.js'), 'keys', '--direct'];

async function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: WORKSPACE_ROOT, env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const withKey = (key: string, path: string): Promise<Response> => apiFetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });

afterAll(async () => {
  await api?.stop();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

describe('API keys with real processes', () => {
  it('on a developer machine without any key, accepts an admin key made for this run and printed in the log', async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    api = startBuiltApp('api', { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'development', LOG_FORMAT: 'json', API_KEY: '', PORT: String(port), HOST: '127.0.0.1' });
    await waitForHttp(`${baseUrl}/health`, api);
    const printed = /accepts the admin key (tq_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43})/.exec(api.output())?.[1];
    expect(printed).toBeDefined();

    expect((await withKey(printed ?? '', '/keys')).status).toBe(200);
    expect((await withKey(`tq_${'x'.repeat(12)}_${'y'.repeat(43)}`, '/keys')).status).toBe(401);
  });

  it('creates a key with npm run keys that the running API accepts, lists it, and revokes it', async () => {
    const created = await keys('create', '--name', 'ci', '--scopes', 'tasks:write,tasks:read', '--tenant', 'acme');
    expect(created.code).toBe(0);
    const key = /^(tq_\S+)$/m.exec(created.stdout)?.[1] ?? '';
    const keyPrefix = /prefix (\w+)/.exec(created.stdout)?.[1] ?? '';
    expect(created.stdout).toContain('store it now, it is not shown again');
    expect((await queryDatabase<{ hash: string }>(db.url, 'SELECT hash FROM api_keys WHERE prefix = $1', [keyPrefix]))[0]?.hash).toMatch(/^[0-9a-f]{64}$/);

    const submitted = await apiFetch(`${baseUrl}/submit-task`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'noop', payload: {} }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    expect(((await (await withKey(key, `/tasks/${id}`)).json()) as { tenant: string }).tenant).toBe('acme');
    expect((await withKey(key, '/keys')).status).toBe(403);

    const listed = await keys('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${keyPrefix}\\s*│\\s*ci\\s*│\\s*acme\\s*│\\s*tasks:write,tasks:read`));
    expect(listed.stdout).not.toContain(key);
    const listedJson = await keys('list', '--json');
    expect(JSON.parse(listedJson.stdout)).toContainEqual(expect.objectContaining({ prefix: keyPrefix, name: 'ci', tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] }));

    const revoked = await keys('revoke', keyPrefix);
    expect([revoked.code, revoked.stdout]).toEqual([0, expect.stringContaining(`revoked key ${keyPrefix}`)]);
    await waitFor(async () => (await withKey(key, '/tasks')).status === 401, { timeoutMs: 10_000, intervalMs: 250, description: 'the revoked key is refused' });
  });

  it.each([
    [['frob'], /unknown command 'frob'/],
    [['create', '--name', 'x', '--scopes', 'root'], /--scopes: each scope must be one of: tasks:write, tasks:read, admin/],
    [['revoke', 'nosuchprefix'], /no active key with prefix "nosuchprefix"/],
  ])('answers a wrong use (%j) with the reason and exit code 2', async (args, reason) => {
    const result = await keys(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
  });
});
