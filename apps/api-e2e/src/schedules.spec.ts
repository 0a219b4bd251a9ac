import type { ScheduleView, TaskPage } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * Recurring schedules through the real api, worker and monitor processes: a schedule's runs
 * become ordinary tasks that the worker completes, and deleting it stops the runs.
 */
const db = testDatabase('e2e_schedules');
const prefix = uniquePrefix('e2e-schedules');
let api: AppProcess;
let worker: AppProcess;
let monitor: AppProcess;
let baseUrl: string;

const request = async (method: string, path: string, body?: unknown): Promise<Response> =>
  apiFetch(`${baseUrl}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

const tasksOf = async (schedule: string): Promise<TaskPage['items']> =>
  ((await (await request('GET', `/tasks?schedule=${schedule}&limit=100`)).json()) as TaskPage).items;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
  api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, METRICS_PORT: '0', WORKER_ID: 'e2e-schedules-worker' });
  monitor = startBuiltApp('monitor', { ...env, METRICS_PORT: '0' });
});

afterAll(async () => {
  const codes = await Promise.all([monitor?.stop(), worker?.stop(), api?.stop()]);
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0, 0]);
});

describe('a recurring schedule', () => {
  it('creates a task every second that the worker completes, listed under its name, until it is deleted', async () => {
    const created = await request('POST', '/schedules', { name: 'e2e-tick', cron: '*/1 * * * * *', type: 'noop', payload: { note: 'tick' } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as ScheduleView).nextRunAt).toEqual(expect.any(String));
    // A second schedule serves as the clock below.
    expect((await request('POST', '/schedules', { name: 'e2e-clock', cron: '*/1 * * * * *', type: 'noop', payload: {} })).status).toBe(201);

    const completed = await waitFor(
      async () => {
        const done = (await tasksOf('e2e-tick')).filter((task) => task.status === 'completed');
        return done.length >= 2 && done;
      },
      { timeoutMs: 20_000, description: 'two completed runs of e2e-tick' },
    );
    for (const task of completed) expect(task).toMatchObject({ type: 'noop', scheduleName: 'e2e-tick', attemptsMade: 1 });
    const schedule = (await (await request('GET', '/schedules/e2e-tick')).json()) as ScheduleView;
    expect(schedule.lastRunAt).toEqual(expect.any(String));

    expect((await request('DELETE', '/schedules/e2e-tick')).status).toBe(204);
    const deletedAt = Date.now();
    const atDelete = (await tasksOf('e2e-tick')).length;
    const clock = (await tasksOf('e2e-clock')).length;
    // Three more seconds go by (the clock schedule keeps running): the deleted one adds nothing
    // beyond a run that was already under way when it was deleted.
    await waitFor(async () => (await tasksOf('e2e-clock')).length >= clock + 3, { timeoutMs: 20_000, description: 'three more runs of e2e-clock' });
    const after = await tasksOf('e2e-tick');
    expect(after.length).toBeLessThanOrEqual(atDelete + 1);
    for (const task of after) expect(new Date(task.createdAt).getTime()).toBeLessThan(deletedAt + 1_000);
    // Its tasks stay, with its name.
    expect(after.every((task) => task.scheduleName === 'e2e-tick')).toBe(true);
    expect((await request('GET', '/schedules/e2e-tick')).status).toBe(404);
  });
});
