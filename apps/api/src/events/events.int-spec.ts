import type { CreatedApiKeyView, SubmitTaskResponse, TaskEvent } from '@taskq/contracts';
import { openEventStream, queryDatabase, waitFor, type EventStreamReader } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';

/**
 * The event routes against the in-process API (no worker: the test changes tasks itself):
 * who may stream what, the per-key stream limit, and the catch-up from PostgreSQL of a
 * terminal state whose announcement was lost.
 */
jest.setTimeout(30_000);

const api = useApiHarness({ label: 'events_api', env: { SSE_MAX_STREAMS_PER_KEY: '2', SSE_CATCH_UP_INTERVAL_MS: '300', SSE_HEARTBEAT_MS: '200' } });
let baseUrl: string;
let acme: CreatedApiKeyView;
let globex: CreatedApiKeyView;
let writeOnly: CreatedApiKeyView;
const open: EventStreamReader[] = [];

async function createKey(name: string, scopes: string[], tenant?: string): Promise<CreatedApiKeyView> {
  const response = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name, scopes, ...(tenant ? { tenant } : {}) }) });
  expect(response.statusCode).toBe(201);
  return response.json<CreatedApiKeyView>();
}

async function submit(key: string): Promise<string> {
  const response = await api.app.inject({
    method: 'POST',
    url: '/tasks',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ type: 'noop', payload: {} }),
  });
  expect(response.statusCode).toBe(202);
  return response.json<SubmitTaskResponse>().id;
}

async function stream(path: string, key: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
  const reader = await openEventStream(`${baseUrl}${path}`, { authorization: `Bearer ${key}`, ...headers });
  open.push(reader);
  return reader;
}

const eventsOf = (reader: EventStreamReader): TaskEvent[] => reader.events.map((event) => JSON.parse(event.data) as TaskEvent);

beforeAll(async () => {
  await api.app.listen(0, '127.0.0.1');
  baseUrl = (await api.app.getUrl()).replace('[::1]', '127.0.0.1');
  acme = await createKey('acme', ['tasks:write', 'tasks:read'], 'acme');
  globex = await createKey('globex', ['tasks:write', 'tasks:read'], 'globex');
  writeOnly = await createKey('acme-writer', ['tasks:write'], 'acme');
});

afterEach(() => {
  for (const reader of open.splice(0)) reader.close();
});

it("streams only the key's tenant's events; another tenant's task is a 404", async () => {
  const acmeStream = await stream('/events', acme.key);
  const globexStream = await stream('/events', globex.key);
  const acmeTask = await submit(acme.key);
  const globexTask = await submit(globex.key);
  await waitFor(() => eventsOf(acmeStream).some((e) => e.taskId === acmeTask) && eventsOf(globexStream).some((e) => e.taskId === globexTask), {
    timeoutMs: 5_000,
    description: 'each tenant saw its task queued',
  });
  expect(eventsOf(acmeStream).map((e) => e.taskId)).not.toContain(globexTask);
  expect(eventsOf(globexStream).map((e) => e.taskId)).not.toContain(acmeTask);
  expect(eventsOf(acmeStream).find((e) => e.taskId === acmeTask)).toMatchObject({ kind: 'status', status: 'queued', tenant: 'acme', type: 'noop' });

  const foreign = await stream(`/tasks/${acmeTask}/events`, globex.key);
  expect(foreign.status).toBe(404);
});

it('needs tasks:read, and refuses a stream beyond SSE_MAX_STREAMS_PER_KEY with 429 and Retry-After', async () => {
  expect((await stream('/events', writeOnly.key)).status).toBe(403);
  await stream('/events', acme.key);
  await stream('/events?type=noop', acme.key);
  const third = await fetch(`${baseUrl}/events`, { headers: { authorization: `Bearer ${acme.key}` } });
  expect(third.status).toBe(429);
  expect(third.headers.get('retry-after')).toBe('5');
  expect(await third.json()).toMatchObject({ type: '/problems/too-many-streams', status: 429 });
  // Closing one frees its place.
  for (const reader of open.splice(0)) reader.close();
  await waitFor(async () => {
    const again = await stream('/events', acme.key);
    return again.status === 200;
  }, { timeoutMs: 5_000, description: 'a place is free again' });
});

it('refuses unknown types, bad statuses and foreign Last-Event-IDs with 400', async () => {
  for (const path of ['/events?type=nope', '/events?status=finished', '/events?lastEventId=12']) {
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${acme.key}` } });
    expect(response.status).toBe(400);
  }
});

it('catches up a terminal state whose announcement never came (its process crashed after the commit)', async () => {
  const id = await submit(acme.key);
  const one = await stream(`/tasks/${id}/events`, acme.key);
  const all = await stream('/events?status=completed', acme.key);
  await waitFor(() => one.events.length > 0, { timeoutMs: 5_000, description: 'the snapshot' });
  // Completed behind the API's back: committed in PostgreSQL, never published.
  await queryDatabase(api.db.url, `UPDATE tasks SET status = 'completed', finished_at = now(), updated_at = now() WHERE id = $1`, [id]);
  await one.ended;
  expect(eventsOf(one).map((e) => (e.kind === 'status' ? e.status : e.kind))).toEqual(['queued', 'completed']);
  await waitFor(() => eventsOf(all).some((e) => e.taskId === id), { timeoutMs: 5_000, description: 'the all-events stream caught up too' });
  expect(eventsOf(all).filter((e) => e.taskId === id)).toHaveLength(1);
});
