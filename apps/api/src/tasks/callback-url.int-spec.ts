import { queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';

/** A callback URL is checked at submission (the monitor checks the resolved address again): a bad one is a 400 and nothing is stored. */
jest.setTimeout(30_000);

const api = useApiHarness({ label: 'callback_url' });

const submit = (body: unknown, url = '/tasks') =>
  api.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

const stored = async (): Promise<number> => (await queryDatabase<{ n: number }>(api.db.url, 'SELECT count(*)::int AS n FROM tasks'))[0]?.n ?? 0;

it.each([
  ['not http(s)', 'ftp://example.com/hook', /absolute http\(s\) URL/],
  ['relative', '/hook', /absolute http\(s\) URL/],
  ['too long', `https://example.com/${'a'.repeat(2_100)}`, /2048/],
  ['loopback', 'http://127.0.0.1:8080/hook', /loopback, private or reserved/],
  ['private', 'http://10.1.2.3/hook', /loopback, private or reserved/],
  ['localhost', 'http://localhost:3000/hook', /localhost/],
])('refuses a callback URL that is %s with 400, storing nothing', async (_case, callbackUrl, message) => {
  const before = await stored();
  const single = await submit({ type: 'noop', payload: {}, callbackUrl });
  expect(single.statusCode).toBe(400);
  expect(JSON.stringify(single.json())).toMatch(message);
  expect(single.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'callbackUrl' })] });
  const legacy = await submit({ type: 'noop', payload: {}, callbackUrl }, '/submit-task');
  expect(legacy.statusCode).toBe(400);
  expect(legacy.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'callbackUrl' })] });
  const bulk = await submit({ tasks: [{ type: 'noop', payload: {} }, { type: 'noop', payload: {}, callbackUrl }] }, '/tasks/bulk');
  expect(bulk.statusCode).toBe(400);
  expect(bulk.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'tasks.1.callbackUrl' })] });
  expect(await stored()).toBe(before);
});

it('stores a public callback URL and shows it on the task', async () => {
  const response = await submit({ type: 'noop', payload: {}, callbackUrl: 'https://hooks.example.com/taskq' });
  expect(response.statusCode).toBe(202);
  const task = await api.app.inject({ method: 'GET', url: `/tasks/${response.json<{ id: string }>().id}` });
  expect(task.json()).toMatchObject({ callbackUrl: 'https://hooks.example.com/taskq', callback: null });
  const listed = await api.app.inject({ method: 'GET', url: '/tasks?limit=100' });
  expect(listed.json<{ items: Array<{ id: string; callbackUrl: string | null }> }>().items.find((row) => row.id === response.json<{ id: string }>().id)).toMatchObject({
    callbackUrl: 'https://hooks.example.com/taskq',
  });
});
