import type { SubmitTaskResponse, TaskEvent, TaskView } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, openEventStream, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess, type EventStreamReader } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * Live events across processes: a task submitted on one API replica and run by a separate
 * worker process is seen, change by change, by a stream on the other replica; a stream that
 * drops mid-task and resumes with Last-Event-ID still gets the terminal state.
 */
const db = testDatabase('e2e_events');
const prefix = uniquePrefix('e2e-events');
const apis: AppProcess[] = [];
const urls: string[] = [];
let worker: AppProcess;

const eventsOf = (reader: EventStreamReader): TaskEvent[] => reader.events.map((event) => JSON.parse(event.data) as TaskEvent);
const statusesOf = (reader: EventStreamReader, taskId: string): string[] =>
  eventsOf(reader)
    .filter((event) => event.taskId === taskId && event.kind === 'status')
    .map((event) => (event.kind === 'status' ? event.status : ''));

async function submitSleep(baseUrl: string, ms: number): Promise<string> {
  const response = await apiFetch(`${baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'sleep', payload: { ms } }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as SubmitTaskResponse).id;
}

beforeAll(async () => {
  const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test', SSE_CATCH_UP_INTERVAL_MS: '1000' };
  for (let replica = 0; replica < 2; replica++) {
    const port = await freePort();
    const api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
    apis.push(api);
    urls.push(`http://127.0.0.1:${port}`);
    // One at a time: the first creates and migrates the database.
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, api);
  }
  worker = startBuiltApp('worker', { ...env, WORKER_ID: 'e2e-events-worker' });
});

afterAll(async () => {
  const codes = await Promise.all([worker?.stop(), ...apis.map((api) => api.stop())]);
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0, 0]);
});

it('a stream on replica A sees queued → active → progress → completed of a sleep task submitted on replica B and run by the worker', async () => {
  const [a, b] = urls as [string, string];
  const all = await openEventStream(`${a}/events?type=sleep`);
  expect(all.status).toBe(200);
  try {
    const id = await submitSleep(b, 1_200);
    const one = await openEventStream(`${a}/tasks/${id}/events`);
    await waitFor(() => statusesOf(all, id).includes('completed'), { timeoutMs: 20_000, description: 'completed on the all-events stream' });
    expect(statusesOf(all, id)).toEqual(['queued', 'active', 'completed']);
    const progress = eventsOf(all).filter((event) => event.taskId === id && event.kind === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatchObject({ progress: 100 });
    // Progress comes between active and completed.
    const order: string[] = eventsOf(all)
      .filter((event) => event.taskId === id)
      .map((event) => (event.kind === 'status' ? event.status : 'progress'));
    expect(order.indexOf('progress')).toBeGreaterThan(order.indexOf('active'));
    expect(order.lastIndexOf('progress')).toBeLessThan(order.indexOf('completed'));

    // The single-task stream began with the task's state at that moment and ended after completed.
    await one.ended;
    const own = statusesOf(one, id);
    expect(own.at(-1)).toBe('completed');
    expect(['queued', 'active']).toContain(own[0]);

    const task = (await (await apiFetch(`${b}/tasks/${id}`)).json()) as TaskView;
    expect(task).toMatchObject({ status: 'completed', progress: 100 });
    expect(task.progressUpdatedAt).not.toBeNull();
  } finally {
    all.close();
  }
});

it('a stream that drops mid-task and resumes with Last-Event-ID still gets the terminal event', async () => {
  const [a, b] = urls as [string, string];
  const first = await openEventStream(`${a}/events?type=sleep`);
  const id = await submitSleep(b, 1_500);
  await waitFor(() => statusesOf(first, id).includes('active'), { timeoutMs: 20_000, description: 'active seen' });
  const lastId = first.events.at(-1)?.id;
  first.close();
  expect(lastId).toBeDefined();

  // Reconnect only once the task has finished: everything after the drop happened while nobody listened.
  await waitFor(async () => ((await (await apiFetch(`${b}/tasks/${id}`)).json()) as TaskView).status === 'completed', { timeoutMs: 20_000, description: 'completed' });
  const resumed = await openEventStream(`${b}/events?type=sleep`, { 'last-event-id': lastId as string });
  try {
    await waitFor(() => statusesOf(resumed, id).includes('completed'), { timeoutMs: 10_000, description: 'completed after resuming' });
  } finally {
    resumed.close();
  }
});

it('a finished task\'s stream sends its terminal state and ends at once', async () => {
  const [a] = urls as [string, string];
  const id = await submitSleep(a, 10);
  await waitFor(async () => ((await (await apiFetch(`${a}/tasks/${id}`)).json()) as TaskView).status === 'completed', { timeoutMs: 20_000, description: 'completed' });
  const stream = await openEventStream(`${a}/tasks/${id}/events`);
  await stream.ended;
  expect(statusesOf(stream, id)).toEqual(['completed']);
});
