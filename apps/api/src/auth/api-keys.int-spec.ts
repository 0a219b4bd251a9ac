import type { LightMyRequestResponse } from 'fastify';
import type { ApiKeyView, CreatedApiKeyView, SubmitTaskResponse, TaskPage, TaskView } from '@taskq/contracts';
import { queryDatabase, waitFor } from '@taskq/testing';
import { PROBLEM_JSON } from '../tasks/testing/test-apps';
import { useApiHarness } from '../testing/api-harness';
import { KEY_CACHE_MS } from './api-key-authenticator';

/**
 * API keys against the in-process API: who gets in (401), what each scope may do (403), and
 * what each tenant may see (another tenant's task is a 404, as if it did not exist).
 */
jest.setTimeout(30_000);

const api = useApiHarness({ label: 'api_keys_api' });

/** A request with the given key (`null`: no credentials at all). */
function as(key: string | null, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return api.app.inject({
    method,
    url,
    headers: { authorization: key === null ? undefined : `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } as Record<string, string>,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function createKey(name: string, scopes: string[], tenant?: string): Promise<CreatedApiKeyView> {
  // The harness's requests carry the bootstrap admin key (TEST_API_KEY).
  const response = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name, scopes, ...(tenant ? { tenant } : {}) }) });
  expect(response.statusCode).toBe(201);
  return response.json<CreatedApiKeyView>();
}

async function submit(key: string, headers: Record<string, string> = {}): Promise<SubmitTaskResponse> {
  const response = await as(key, 'POST', '/submit-task', { type: 'noop', payload: {} }, headers);
  expect(response.statusCode).toBe(202);
  return response.json<SubmitTaskResponse>();
}

let acmeWriter: CreatedApiKeyView;
let acmeReader: CreatedApiKeyView;
let globexWriter: CreatedApiKeyView;
let operator: CreatedApiKeyView;

beforeAll(async () => {
  acmeWriter = await createKey('acme-ci', ['tasks:write', 'tasks:read'], 'acme');
  acmeReader = await createKey('acme-dashboard', ['tasks:read'], 'acme');
  globexWriter = await createKey('globex', ['tasks:write', 'tasks:read']);
  operator = await createKey('ops', ['admin']);
});

describe('authentication', () => {
  it('answers missing, unknown, revoked and malformed keys with the same 401, and stores nothing', async () => {
    const revoked = await createKey('soon-revoked', ['tasks:write']);
    expect((await api.app.inject({ method: 'DELETE', url: `/keys/${revoked.prefix}` })).statusCode).toBe(204);
    const unknown = `tq_${'A'.repeat(12)}_${'b'.repeat(43)}`;
    const tasksBefore = await queryDatabase<{ n: number }>(api.db.url, 'SELECT count(*)::int AS n FROM tasks');

    const answers = await Promise.all([
      as(null, 'POST', '/submit-task', { type: 'noop', payload: {} }),
      as(unknown, 'POST', '/submit-task', { type: 'noop', payload: {} }),
      as(revoked.key, 'POST', '/submit-task', { type: 'noop', payload: {} }),
      as('not-a-key', 'POST', '/submit-task', { type: 'noop', payload: {} }),
      as(null, 'POST', '/submit-task', { type: 'noop', payload: {} }, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
      as(null, 'POST', '/submit-task', { type: 'noop', payload: {} }, { 'x-api-key': unknown }),
      // Not even malformed JSON or an unknown route tells an anonymous client anything.
      as(null, 'POST', '/submit-task', undefined, { 'content-type': 'application/json', 'content-length': '3' }),
      as(unknown, 'GET', '/no-such-route'),
    ]);

    for (const response of answers) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="taskq"');
      expect(response.json()).toEqual({
        type: '/problems/unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: 'A valid API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
      });
    }
    expect(await queryDatabase<{ n: number }>(api.db.url, 'SELECT count(*)::int AS n FROM tasks')).toEqual(tasksBefore);
  });

  it('takes the same time for unknown, revoked and malformed keys (same lookup, same comparison)', async () => {
    const revoked = await createKey('revoked-for-timing', ['tasks:read']);
    await api.app.inject({ method: 'DELETE', url: `/keys/${revoked.prefix}` });
    const candidates = { unknown: `tq_${'Z'.repeat(12)}_${'q'.repeat(43)}`, revoked: revoked.key, malformed: 'x'.repeat(59) };
    const times: Record<string, number[]> = { unknown: [], revoked: [], malformed: [] };
    // Interleaved, so that machine load falls on all three alike.
    for (let round = 0; round < 150; round++) {
      for (const [kind, key] of Object.entries(candidates)) {
        const started = process.hrtime.bigint();
        expect((await as(key, 'GET', '/tasks')).statusCode).toBe(401);
        times[kind]?.push(Number(process.hrtime.bigint() - started));
      }
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const medians = Object.values(times).map(median);
    expect(Math.max(...medians) / Math.min(...medians)).toBeLessThan(2);
  });

  it('accepts the key as a bearer token or in X-API-Key, and records when it was last used', async () => {
    expect((await as(acmeReader.key, 'GET', '/tasks')).statusCode).toBe(200);
    expect((await as(null, 'GET', '/tasks', undefined, { 'x-api-key': acmeReader.key })).statusCode).toBe(200);
    const [row] = await queryDatabase<{ last_used_at: Date | null }>(api.db.url, 'SELECT last_used_at FROM api_keys WHERE prefix = $1', [acmeReader.prefix]);
    expect(row?.last_used_at).toBeInstanceOf(Date);
  });

  it('lets health, readiness and nothing else through without a key', async () => {
    expect((await as(null, 'GET', '/health')).statusCode).toBe(200);
    expect((await as(null, 'GET', '/health/ready')).statusCode).toBe(200);
    for (const url of ['/metrics', '/task-types', '/tasks', '/dlq', '/schedules', '/keys']) expect([url, (await as(null, 'GET', url)).statusCode]).toEqual([url, 401]);
  });
});

describe('scopes', () => {
  it.each<[string, () => string, 'GET' | 'POST' | 'DELETE', string, unknown]>([
    ['a read-only key cannot submit', () => acmeReader.key, 'POST', '/submit-task', { type: 'noop', payload: {} }],
    ['a read-only key cannot submit in bulk', () => acmeReader.key, 'POST', '/tasks/bulk', { tasks: [{ type: 'noop', payload: {} }] }],
    ['a tasks key cannot requeue the DLQ', () => acmeWriter.key, 'POST', '/dlq/requeue', undefined],
    ['a tasks key cannot clear the DLQ', () => acmeWriter.key, 'DELETE', '/dlq', undefined],
    ['a tasks key cannot see the schedules', () => acmeWriter.key, 'GET', '/schedules', undefined],
    ['a tasks key cannot make keys', () => acmeWriter.key, 'POST', '/keys', { name: 'mine', scopes: ['admin'] }],
    ['a tasks key cannot list keys', () => acmeReader.key, 'GET', '/keys', undefined],
  ])('%s: 403, and nothing changes', async (_case, key, method, url, body) => {
    const keysBefore = await queryDatabase(api.db.url, 'SELECT prefix FROM api_keys ORDER BY prefix');
    const response = await as(key(), method, url, body);
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json()).toMatchObject({ type: '/problems/forbidden', status: 403, detail: expect.stringMatching(/lacks the scope "(tasks:write|admin)"/) });
    expect(await queryDatabase(api.db.url, 'SELECT prefix FROM api_keys ORDER BY prefix')).toEqual(keysBefore);
  });

  it('gives any key the task types, read keys the metrics, and admin keys everything', async () => {
    expect((await as(acmeWriter.key, 'GET', '/task-types')).statusCode).toBe(200);
    expect((await as(acmeReader.key, 'GET', '/metrics')).statusCode).toBe(200);
    for (const url of ['/schedules', '/keys', '/dlq', '/tasks']) expect([url, (await as(operator.key, 'GET', url)).statusCode]).toEqual([url, 200]);
  });
});

describe('tenants', () => {
  it("keeps each tenant's tasks to itself: another tenant's task is a 404 everywhere", async () => {
    const task = await submit(acmeWriter.key);

    expect((await as(acmeReader.key, 'GET', `/tasks/${task.id}`)).json<TaskView>()).toMatchObject({ id: task.id, tenant: 'acme' });
    for (const [method, url] of [
      ['GET', `/tasks/${task.id}`],
      ['POST', `/tasks/${task.id}/cancel`],
      ['POST', `/tasks/${task.id}/retry`],
    ] as const) {
      const response = await as(globexWriter.key, method, url);
      expect([method, url, response.statusCode]).toEqual([method, url, 404]);
      expect(response.json()).toMatchObject({ type: '/problems/not-found', detail: `No task with id "${task.id}".` });
    }
    const globexList = (await as(globexWriter.key, 'GET', '/tasks?limit=100')).json<TaskPage>();
    expect(globexList.items.map((item) => item.id)).not.toContain(task.id);
    expect((await as(acmeReader.key, 'GET', '/tasks?limit=100')).json<TaskPage>().items.map((item) => item.id)).toContain(task.id);
    // Admin keys see every tenant's tasks.
    expect((await as(operator.key, 'GET', '/tasks?limit=100')).json<TaskPage>().items.map((item) => item.id)).toContain(task.id);
    // The attempt to cancel it changed nothing.
    expect((await queryDatabase<{ status: string }>(api.db.url, 'SELECT status FROM tasks WHERE id = $1', [task.id]))[0]?.status).toBe('queued');
  });

  it("hides another tenant's dead tasks, and lets only their owner retry them", async () => {
    const task = await submit(acmeWriter.key);
    await queryDatabase(api.db.url, `UPDATE tasks SET status = 'dead', finished_at = now(), last_error = 'boom' WHERE id = $1`, [task.id]);

    expect((await as(globexWriter.key, 'GET', `/dlq/${task.id}`)).statusCode).toBe(404);
    expect((await as(globexWriter.key, 'GET', '/dlq')).json<TaskPage>().items.map((item) => item.id)).not.toContain(task.id);
    expect((await as(acmeReader.key, 'GET', '/dlq')).json<TaskPage>().items.map((item) => item.id)).toContain(task.id);
    expect((await as(globexWriter.key, 'POST', `/tasks/${task.id}/retry`)).statusCode).toBe(404);
    expect((await as(acmeWriter.key, 'POST', `/tasks/${task.id}/retry`)).statusCode).toBe(202);
  });

  it('keeps idempotency keys per tenant', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const acme = await submit(acmeWriter.key, headers);
    const globex = await submit(globexWriter.key, headers);
    expect(globex.id).not.toBe(acme.id);
    const replay = await as(acmeWriter.key, 'POST', '/submit-task', { type: 'noop', payload: {} }, headers);
    expect(replay.statusCode).toBe(200);
    expect(replay.json<SubmitTaskResponse>().id).toBe(acme.id);
  });
});

describe('/keys', () => {
  it('shows a new key once, lists keys without their secret, and revokes them', async () => {
    const created = await createKey('rotating', ['tasks:read'], 'acme');
    expect(created).toMatchObject({ name: 'rotating', tenant: 'acme', scopes: ['tasks:read'], revokedAt: null, lastUsedAt: null });
    expect(created.key).toMatch(new RegExp(`^tq_${created.prefix}_[A-Za-z0-9_-]{43}$`));

    const listed = (await api.app.inject({ method: 'GET', url: '/keys' })).json<ApiKeyView[]>();
    const entry = listed.find((key) => key.prefix === created.prefix);
    expect(entry).toEqual({ name: 'rotating', prefix: created.prefix, scopes: ['tasks:read'], tenant: 'acme', createdAt: created.createdAt, lastUsedAt: null, revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.key);

    expect((await as(created.key, 'GET', '/tasks')).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'DELETE', url: `/keys/${created.prefix}` })).statusCode).toBe(204);
    // At once on this replica; other replicas within KEY_CACHE_MS.
    expect((await as(created.key, 'GET', '/tasks')).statusCode).toBe(401);
    expect((await api.app.inject({ method: 'DELETE', url: `/keys/${created.prefix}` })).statusCode).toBe(404);
    expect(KEY_CACHE_MS).toBeLessThanOrEqual(5_000);
  });

  it('defaults the tenant to the name, and refuses bad keys with 400 naming the field', async () => {
    expect((await createKey('initech', ['tasks:write'])).tenant).toBe('initech');
    for (const [body, field] of [
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'has space', scopes: ['admin'] }, 'name'],
      [{ name: 'x', scopes: ['admin'], tenant: '../etc' }, 'tenant'],
      [{ name: 'x', scopes: ['admin'], owner: 'me' }, 'owner'],
    ] as const) {
      const response = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(response.statusCode).toBe(400);
      expect(response.json<{ errors: Array<{ field: string }> }>().errors.map((error) => error.field)).toContain(field);
    }
  });

  it('stops accepting a key revoked elsewhere (another replica, the CLI) within KEY_CACHE_MS', async () => {
    const created = await createKey('revoked-elsewhere', ['tasks:read']);
    expect((await as(created.key, 'GET', '/tasks')).statusCode).toBe(200);
    await queryDatabase(api.db.url, 'UPDATE api_keys SET revoked_at = now() WHERE prefix = $1', [created.prefix]);
    await waitFor(async () => (await as(created.key, 'GET', '/tasks')).statusCode === 401, { timeoutMs: KEY_CACHE_MS + 3_000, intervalMs: 200, description: 'the revoked key is refused' });
  });
});
