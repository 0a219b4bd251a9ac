import type { ConsoleSessionView, CreatedApiKeyView, TaskPage } from '@taskq/contracts';
import { TEST_API_KEY, queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';
import { SESSION_COOKIE } from './console-sessions';

/**
 * Console sessions through the API's own paths: an API key traded for an HttpOnly cookie, the
 * cookie acting as that key (scopes, tenant), the CSRF token on every change, sign-out and
 * revocation ending it, and nothing stored but the token's hash.
 */
jest.setTimeout(30_000);

const api = useApiHarness({ label: 'console_sessions', env: { CONSOLE_SESSION_TTL_MS: '60000' } });

type Method = 'GET' | 'POST' | 'DELETE';
/** A request without any API key: only what `headers` carries (a cookie, a CSRF token). */
const call = (method: Method, url: string, headers: Record<string, string> = {}, body?: unknown) =>
  api.app
    .getHttpAdapter()
    .getInstance()
    .inject({
      method,
      url,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

interface SignedIn {
  cookie: string;
  token: string;
  view: ConsoleSessionView;
}

async function signIn(apiKey: string): Promise<SignedIn> {
  const response = await call('POST', '/auth/session', {}, { apiKey });
  expect(response.statusCode).toBe(201);
  const setCookie = String(response.headers['set-cookie']);
  const token = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(setCookie)?.[1] ?? '';
  return { cookie: `${SESSION_COOKIE}=${token}`, token, view: response.json<ConsoleSessionView>() };
}

async function createKey(name: string, scopes: string[], tenant: string): Promise<CreatedApiKeyView> {
  const response = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name, scopes, tenant }) });
  expect(response.statusCode).toBe(201);
  return response.json<CreatedApiKeyView>();
}

describe('console sessions', () => {
  it('trade a valid key for an HttpOnly, SameSite=Strict cookie that expires with the session; a wrong key gets 401 and no cookie', async () => {
    const wrong = await call('POST', '/auth/session', {}, { apiKey: 'tq_notarealkey1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await call('POST', '/auth/session', {}, {})).statusCode).toBe(400);

    const response = await call('POST', '/auth/session', {}, { apiKey: TEST_API_KEY });
    expect(response.statusCode).toBe(201);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; Expires=.+; HttpOnly; SameSite=Strict$`));
    const view = response.json<ConsoleSessionView>();
    expect(view).toMatchObject({ keyPrefix: 'bootstrap', tenant: 'default', scopes: ['admin'], allTenants: true });
    expect(Date.parse(view.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    expect(Date.parse(view.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    // Only the token's hash is stored.
    const token = /taskq_session=([^;]+)/.exec(setCookie)?.[1] ?? '';
    const rows = await queryDatabase<{ token_hash: string }>(api.db.url, 'SELECT token_hash FROM console_sessions');
    expect(rows.map((row) => row.token_hash)).not.toContain(token);
  });

  it('act as their key: reads pass, and a change needs the CSRF token', async () => {
    const session = await signIn(TEST_API_KEY);
    const current = await call('GET', '/auth/session', { cookie: session.cookie });
    expect(current.json<ConsoleSessionView>()).toEqual(session.view);
    expect((await call('GET', '/tasks', { cookie: session.cookie })).statusCode).toBe(200);
    expect((await call('GET', '/tasks')).statusCode).toBe(401);

    const body = { type: 'noop', payload: {} };
    const refused = await call('POST', '/tasks', { cookie: session.cookie }, body);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ type: '/problems/csrf' });
    const wrongToken = await call('POST', '/tasks', { cookie: session.cookie, 'x-csrf-token': 'not-the-token' }, body);
    expect(wrongToken.statusCode).toBe(403);
    const accepted = await call('POST', '/tasks', { cookie: session.cookie, 'x-csrf-token': session.view.csrfToken }, body);
    expect(accepted.statusCode).toBe(202);
  });

  it("see only their key's tenant and do only what its scopes allow", async () => {
    const reader = await createKey('console-reader', ['tasks:read'], 'acme');
    const other = await createKey('console-other', ['tasks:read', 'tasks:write'], 'globex');
    const othersTask = await api.app.inject({
      method: 'POST',
      url: '/tasks',
      headers: { authorization: `Bearer ${other.key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'noop', payload: {} }),
    });
    expect(othersTask.statusCode).toBe(202);

    const session = await signIn(reader.key);
    expect(session.view).toMatchObject({ tenant: 'acme', scopes: ['tasks:read'], allTenants: false });
    const page = (await call('GET', '/tasks', { cookie: session.cookie })).json<TaskPage>();
    expect(page.items.filter((task) => task.tenant !== 'acme')).toEqual([]);
    expect((await call('GET', `/tasks/${othersTask.json<{ id: string }>().id}`, { cookie: session.cookie })).statusCode).toBe(404);
    const submit = await call('POST', '/tasks', { cookie: session.cookie, 'x-csrf-token': session.view.csrfToken }, { type: 'noop', payload: {} });
    expect(submit.statusCode).toBe(403);
    expect((await call('GET', '/keys', { cookie: session.cookie })).statusCode).toBe(403);
  });

  it('end at sign-out (the session is deleted and the cookie cleared) and when their key is revoked', async () => {
    const session = await signIn(TEST_API_KEY);
    expect((await call('DELETE', '/auth/session', { cookie: session.cookie })).statusCode).toBe(403);
    const out = await call('DELETE', '/auth/session', { cookie: session.cookie, 'x-csrf-token': session.view.csrfToken });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$`));
    expect((await call('GET', '/tasks', { cookie: session.cookie })).statusCode).toBe(401);
    expect((await call('GET', '/auth/session', { cookie: session.cookie })).statusCode).toBe(401);

    const key = await createKey('console-revoked', ['tasks:read'], 'acme');
    const keySession = await signIn(key.key);
    expect((await call('GET', '/tasks', { cookie: keySession.cookie })).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'DELETE', url: `/keys/${key.prefix}` })).statusCode).toBe(204);
    expect((await call('GET', '/tasks', { cookie: keySession.cookie })).statusCode).toBe(401);
    expect(await queryDatabase(api.db.url, 'SELECT 1 FROM console_sessions WHERE key_prefix = $1', [key.prefix])).toEqual([]);
  });

  it('end when they expire', async () => {
    // Never read yet, so not in this replica's 5 s cache of sessions.
    const fresh = await signIn(TEST_API_KEY);
    await queryDatabase(api.db.url, "UPDATE console_sessions SET expires_at = now() - interval '1 second'");
    expect((await call('GET', '/tasks', { cookie: fresh.cookie })).statusCode).toBe(401);
    // Signing in again drops the expired rows.
    await signIn(TEST_API_KEY);
    const left = await queryDatabase<{ n: number }>(api.db.url, 'SELECT count(*)::int AS n FROM console_sessions WHERE expires_at < now()');
    expect(left[0]?.n).toBe(0);
  });
});
