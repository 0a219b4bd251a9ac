import type { CallbackDeliveryView, CreatedApiKeyView, SigningSecretView, SubmitTaskResponse, TaskView } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';

/**
 * Who may see what of completion callbacks (no monitor runs: nothing is delivered), and the
 * trigger that records a delivery for each terminal transition, through the API's own paths.
 */
jest.setTimeout(30_000);

const api = useApiHarness({ label: 'callbacks_access' });
const HOOK = 'https://hooks.example.com/taskq';
let acme: CreatedApiKeyView;
let globex: CreatedApiKeyView;
let acmeWriter: CreatedApiKeyView;

type Method = 'GET' | 'POST';
const call = (method: Method, url: string, key?: string, body?: unknown) =>
  api.app.inject({
    method,
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

async function createKey(name: string, scopes: string[], tenant: string): Promise<CreatedApiKeyView> {
  const response = await call('POST', '/keys', undefined, { name, scopes, tenant });
  expect(response.statusCode).toBe(201);
  return response.json<CreatedApiKeyView>();
}

async function submit(key: string, body: Record<string, unknown>): Promise<string> {
  const response = await call('POST', '/tasks', key, body);
  expect(response.statusCode).toBe(202);
  return response.json<SubmitTaskResponse>().id;
}

const owed = async (taskId: string): Promise<Array<{ event: string; status: string; tenant: string; url: string }>> =>
  queryDatabase(api.db.url, 'SELECT event, status, tenant, url FROM task_callbacks WHERE task_id = $1 ORDER BY id', [taskId]);

beforeAll(async () => {
  acme = await createKey('acme', ['tasks:read', 'tasks:write'], 'acme');
  globex = await createKey('globex', ['tasks:read', 'tasks:write'], 'globex');
  acmeWriter = await createKey('acme-writer', ['tasks:write'], 'acme');
});

describe('signing secrets', () => {
  it('are for admin keys only', async () => {
    for (const [method, url] of [['GET', '/signing-secret'], ['POST', '/signing-secret/rotate']] as const) {
      const response = await call(method, url, acme.key);
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it("are per tenant: an admin reads and rotates another tenant's without touching its own", async () => {
    const own = (await call('GET', '/signing-secret')).json<SigningSecretView>();
    const acmeSecret = await call('GET', '/signing-secret?tenant=acme');
    expect(acmeSecret.statusCode).toBe(200);
    expect(acmeSecret.json()).toMatchObject({ tenant: 'acme', previousSecret: null, rotatedAt: null });
    expect(acmeSecret.json<SigningSecretView>().secret).not.toBe(own.secret);

    const rotated = await call('POST', '/signing-secret/rotate?tenant=acme');
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json()).toMatchObject({ tenant: 'acme', previousSecret: acmeSecret.json<SigningSecretView>().secret, rotatedAt: expect.any(String) });
    expect((await call('GET', '/signing-secret?tenant=acme')).json()).toEqual(rotated.json());
    expect((await call('GET', '/signing-secret')).json()).toEqual(own);
  });

  it('refuse a malformed tenant with 400', async () => {
    const response = await call('GET', `/signing-secret?tenant=${encodeURIComponent('no spaces')}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'tenant' })] });
  });
});

describe('deliveries owed', () => {
  it("are shown to the task's tenant only, with tasks:read", async () => {
    const id = await submit(acme.key, { type: 'noop', payload: {}, callbackUrl: HOOK });
    expect((await call('POST', `/tasks/${id}/cancel`, acme.key)).statusCode).toBe(200);

    const task = (await call('GET', `/tasks/${id}`, acme.key)).json<TaskView>();
    expect(task).toMatchObject({ callbackUrl: HOOK, callback: { event: 'cancelled', status: 'pending', attempts: 0, deliveredAt: null, lastStatusCode: null, lastError: null } });
    expect(task.callback?.nextAttemptAt).toEqual(expect.any(String));
    const tries = await call('GET', `/tasks/${id}/callbacks`, acme.key);
    expect(tries.statusCode).toBe(200);
    expect(tries.json<{ items: CallbackDeliveryView[] }>()).toEqual({ items: [] });

    expect((await call('GET', `/tasks/${id}/callbacks`, globex.key)).statusCode).toBe(404);
    expect((await call('GET', `/tasks/${id}/callbacks`, acmeWriter.key)).statusCode).toBe(403);
    expect((await call('GET', `/tasks/${id}/callbacks`)).statusCode).toBe(200);
  });

  it('are recorded once per terminal transition: a task retried and finished again owes a second', async () => {
    const id = await submit(acme.key, { type: 'noop', payload: {}, callbackUrl: HOOK });
    expect(await owed(id)).toEqual([]);
    expect((await call('POST', `/tasks/${id}/cancel`, acme.key)).statusCode).toBe(200);
    expect(await owed(id)).toEqual([{ event: 'cancelled', status: 'pending', tenant: 'acme', url: HOOK }]);

    // Writing the same status again is no transition.
    await queryDatabase(api.db.url, 'UPDATE tasks SET status = status WHERE id = $1', [id]);
    expect(await owed(id)).toHaveLength(1);

    expect((await call('POST', `/tasks/${id}/retry`, acme.key)).statusCode).toBe(202);
    expect(await owed(id)).toHaveLength(1);
    expect((await call('POST', `/tasks/${id}/cancel`, acme.key)).statusCode).toBe(200);
    expect((await owed(id)).map((row) => row.event)).toEqual(['cancelled', 'cancelled']);
  });

  it('are not recorded for a task without a callback URL', async () => {
    const id = await submit(acme.key, { type: 'noop', payload: {} });
    expect((await call('POST', `/tasks/${id}/cancel`, acme.key)).statusCode).toBe(200);
    expect(await owed(id)).toEqual([]);
    expect((await call('GET', `/tasks/${id}`, acme.key)).json()).toMatchObject({ callbackUrl: null, callback: null });
  });
});
