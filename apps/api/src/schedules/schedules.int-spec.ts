import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisConnection } from '@taskq/queue';
import { TASK_TYPE_NAMES, getTaskType, type ScheduleList, type ScheduleView, type SubmitTaskResponse, type TaskPage, type TaskView } from '@taskq/contracts';
import { TaskAdmissions, openDataSource } from '@taskq/persistence';
import { prepareTask } from '@taskq/tasks';
import { ScheduleQueue, TaskProducer, createRedisConnection } from '@taskq/queue';
import {
  TEST_REDIS_URL,
  deleteRedisPrefix,
  queryDatabase,
  startPrivateRedis,
  testDatabase,
  uniquePrefix,
  type PrivateRedis,
} from '@taskq/testing';
import { PROBLEM_JSON, countTasks, send, startApi } from '../tasks/testing/test-apps';

interface ScheduleRow {
  name: string;
  cron: string;
  tz: string | null;
  type: string;
  payload: unknown;
  enabled: boolean;
  updated_at: Date;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; messages: string[] }>;
}

const scheduleRows = (url: string): Promise<ScheduleRow[]> =>
  queryDatabase<ScheduleRow>(url, 'SELECT name, cron, tz, type, payload, enabled, updated_at FROM schedules ORDER BY name');

const nightly = { name: 'nightly-report', cron: '0 3 * * *', tz: 'Europe/Paris', type: 'report', payload: { windowMinutes: 1440 } };

describe('schedules API', () => {
  const db = testDatabase('api_schedules');
  const prefix = uniquePrefix('api-schedules');
  let app: NestFastifyApplication;
  let redis: RedisConnection;
  let queue: ScheduleQueue;
  let producer: TaskProducer;

  /** Redis's view: the BullMQ job scheduler of a schedule, if any. */
  const scheduler = (name: string) => queue.queue.getJobScheduler(name);

  // A local zone far from UTC, so a schedule without tz proves it runs in UTC, not locally.
  const localZone = process.env['TZ'];

  beforeAll(async () => {
    process.env['TZ'] = 'Pacific/Auckland';
    app = await startApi(db.url, prefix);
    redis = createRedisConnection(TEST_REDIS_URL, 'worker');
    queue = new ScheduleQueue(redis, prefix);
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await producer?.close();
    await queue?.close();
    redis?.disconnect();
    await app?.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
    if (localZone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = localZone;
  });

  describe('POST /schedules', () => {
    it('stores the schedule, registers its BullMQ job scheduler, and answers 201 with its next run', async () => {
      const before = Date.now();
      const response = await send(app, 'POST', '/schedules', nightly);
      expect(response.statusCode).toBe(201);
      expect(response.headers['location']).toBe('/schedules/nightly-report');
      const view = response.json<ScheduleView>();
      expect(view).toEqual({
        ...nightly,
        enabled: true,
        tenant: 'default',
        callbackUrl: null,
        createdAt: expect.any(String),
        updatedAt: view.createdAt,
        lastRunAt: null,
        nextRunAt: expect.any(String),
      });
      // 03:00 in Paris is 01:00 or 02:00 UTC, within the next day.
      const next = new Date(view.nextRunAt ?? '');
      expect(next.getTime()).toBeGreaterThan(before);
      expect(next.getTime() - before).toBeLessThanOrEqual(24 * 3_600_000);
      expect([1, 2]).toContain(next.getUTCHours());

      expect(await scheduleRows(db.url)).toEqual([expect.objectContaining({ ...nightly, enabled: true })]);
      expect(await scheduler('nightly-report')).toMatchObject({ key: 'nightly-report', pattern: '0 3 * * *', tz: 'Europe/Paris', next: next.getTime() });
    });

    it('stores a disabled schedule without a job scheduler', async () => {
      const response = await send(app, 'POST', '/schedules', { name: 'paused.one', cron: '*/10 * * * * *', type: 'noop', payload: {}, enabled: false });
      expect(response.statusCode).toBe(201);
      expect(response.json<ScheduleView>()).toMatchObject({ name: 'paused.one', tz: null, enabled: false, nextRunAt: null });
      expect(await scheduler('paused.one')).toBeUndefined();
    });

    it('answers 409 for a name already taken and changes nothing', async () => {
      const rows = await scheduleRows(db.url);
      const registered = await scheduler('nightly-report');
      const response = await send(app, 'POST', '/schedules', { ...nightly, cron: '*/5 * * * *', tz: null });
      expect(response.statusCode).toBe(409);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.json<Problem>()).toMatchObject({ type: '/problems/schedule-exists', status: 409 });
      expect(await scheduleRows(db.url)).toEqual(rows);
      expect(await scheduler('nightly-report')).toEqual(registered);
    });

    describe('refuses bad input with a 400 problem naming the field, and stores nothing', () => {
      it.each<[string, Record<string, unknown>, string]>([
        ['a bad cron expression', { cron: '61 * * * *' }, 'cron'],
        ['a cron expression with too few fields', { cron: '* * *' }, 'cron'],
        ['a cron expression that never fires', { cron: '0 0 31 2,4 *' }, 'cron'],
        ['an unknown time zone', { tz: 'Mars/Olympus_Mons' }, 'tz'],
        ['an offset instead of a zone', { tz: '+02:00' }, 'tz'],
        ['an unknown type', { type: 'fax' }, 'type'],
        ['a payload invalid for its type', { type: 'sleep', payload: { ms: -5 } }, 'payload.ms'],
        ['an unknown payload field', { type: 'noop', payload: { colour: 'red' } }, 'payload.colour'],
        ['a missing payload', { payload: undefined }, 'payload'],
        ['an unknown field', { priority: 3 }, 'priority'],
        ['a bad name', { name: 'Nightly Report' }, 'name'],
        ['a name with a colon', { name: 'a:b' }, 'name'],
        ['a non-boolean enabled', { enabled: 'yes' }, 'enabled'],
      ])('%s', async (_case, change, field) => {
        const rows = await scheduleRows(db.url);
        const schedulers = await queue.queue.getJobSchedulersCount();
        const body = { ...nightly, name: 'refused', ...change };
        const response = await send(app, 'POST', '/schedules', body);
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        const problem = response.json<Problem>();
        expect(problem).toMatchObject({ type: '/problems/validation-error', status: 400 });
        expect(problem.errors?.map((error) => error.field)).toContain(field);
        expect(await scheduleRows(db.url)).toEqual(rows);
        expect(await queue.queue.getJobSchedulersCount()).toBe(schedulers);
        expect(await scheduler(String(body.name))).toBeUndefined();
      });

      it('says why the cron expression is refused, and lists the valid types', async () => {
        const cron = (await send(app, 'POST', '/schedules', { ...nightly, name: 'refused', cron: '* * *' })).json<Problem>();
        expect(cron.errors).toEqual([{ field: 'cron', messages: [expect.stringMatching(/5 fields .* got 3/)] }]);
        const type = (await send(app, 'POST', '/schedules', { ...nightly, name: 'refused', type: 'fax' })).json<Problem>();
        expect(type.detail).toContain(TASK_TYPE_NAMES.join(', '));
      });
    });
  });

  describe('GET /schedules, GET /schedules/:name', () => {
    it('lists every schedule sorted by name, with the next run of the enabled ones', async () => {
      const response = await send(app, 'GET', '/schedules');
      expect(response.statusCode).toBe(200);
      const { items } = response.json<ScheduleList>();
      expect(items.map((item) => [item.name, item.enabled, item.nextRunAt === null])).toEqual([
        ['nightly-report', true, false],
        ['paused.one', false, true],
      ]);
    });

    it('shows one schedule', async () => {
      const response = await send(app, 'GET', '/schedules/nightly-report');
      expect(response.statusCode).toBe(200);
      const registered = await scheduler('nightly-report');
      expect(response.json<ScheduleView>()).toMatchObject({ ...nightly, nextRunAt: new Date(registered?.next ?? 0).toISOString() });
    });

    it('answers 404 for an unknown name', async () => {
      const response = await send(app, 'GET', '/schedules/no-such-schedule');
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    });
  });

  describe('PATCH /schedules/:name', () => {
    it('changes cron and tz in PostgreSQL and in Redis, keeping the rest', async () => {
      const response = await send(app, 'PATCH', '/schedules/nightly-report', { cron: '30 4 * * 1-5', tz: 'America/New_York' });
      expect(response.statusCode).toBe(200);
      const view = response.json<ScheduleView>();
      expect(view).toMatchObject({ ...nightly, cron: '30 4 * * 1-5', tz: 'America/New_York', enabled: true });
      expect(view.updatedAt > view.createdAt).toBe(true);
      expect(await scheduler('nightly-report')).toMatchObject({ pattern: '30 4 * * 1-5', tz: 'America/New_York', next: new Date(view.nextRunAt ?? '').getTime() });

      const cleared = (await send(app, 'PATCH', '/schedules/nightly-report', { tz: null })).json<ScheduleView>();
      expect(cleared.tz).toBeNull();
      // Without a zone, UTC: never the local zone of the process that computes the next run.
      expect(await scheduler('nightly-report')).toMatchObject({ tz: 'UTC', next: new Date(cleared.nextRunAt ?? '').getTime() });
      expect(new Date(cleared.nextRunAt ?? '').getUTCHours()).toBe(4);
    });

    it('removes the job scheduler when disabled, and registers it again when enabled', async () => {
      const disabled = await send(app, 'PATCH', '/schedules/nightly-report', { enabled: false });
      expect(disabled.statusCode).toBe(200);
      expect(disabled.json<ScheduleView>()).toMatchObject({ enabled: false, nextRunAt: null });
      expect(await scheduler('nightly-report')).toBeUndefined();
      expect((await scheduleRows(db.url)).find((row) => row.name === 'nightly-report')?.enabled).toBe(false);

      const enabled = await send(app, 'PATCH', '/schedules/nightly-report', { enabled: true });
      expect(enabled.statusCode).toBe(200);
      expect(enabled.json<ScheduleView>()).toMatchObject({ enabled: true, nextRunAt: expect.any(String) });
      expect(await scheduler('nightly-report')).toMatchObject({ pattern: '30 4 * * 1-5' });
    });

    it('validates the result as a whole: a new type needs a payload valid for it', async () => {
      const rows = await scheduleRows(db.url);
      const registered = await scheduler('nightly-report');
      // windowMinutes is no field of sleep's payload, and sleep needs ms.
      const refused = await send(app, 'PATCH', '/schedules/nightly-report', { type: 'sleep' });
      expect(refused.statusCode).toBe(400);
      expect(refused.json<Problem>().errors?.map((error) => error.field).sort()).toEqual(['payload.ms', 'payload.windowMinutes']);
      expect(await scheduleRows(db.url)).toEqual(rows);
      expect(await scheduler('nightly-report')).toEqual(registered);

      const changed = await send(app, 'PATCH', '/schedules/nightly-report', { type: 'sleep', payload: { ms: 10 } });
      expect(changed.statusCode).toBe(200);
      expect(changed.json<ScheduleView>()).toMatchObject({ type: 'sleep', payload: { ms: 10 } });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a bad cron expression', { cron: 'every day' }, 'cron'],
      ['a bad time zone', { tz: 'Nowhere/City' }, 'tz'],
      ['a null cron', { cron: null }, 'cron'],
      ['a bad payload', { payload: { ms: 'long' } }, 'payload.ms'],
      ['the name', { name: 'renamed' }, 'name'],
    ])('refuses %s and changes nothing', async (_case, body, field) => {
      const rows = await scheduleRows(db.url);
      const registered = await scheduler('nightly-report');
      const response = await send(app, 'PATCH', '/schedules/nightly-report', body);
      expect(response.statusCode).toBe(400);
      expect(response.json<Problem>().errors?.map((error) => error.field)).toContain(field);
      expect(await scheduleRows(db.url)).toEqual(rows);
      expect(await scheduler('nightly-report')).toEqual(registered);
    });

    it('refuses an empty change', async () => {
      const response = await send(app, 'PATCH', '/schedules/nightly-report', {});
      expect(response.statusCode).toBe(400);
      expect(response.json<Problem>().detail).toMatch(/Nothing to change/);
    });

    it('answers 404 for an unknown name', async () => {
      expect((await send(app, 'PATCH', '/schedules/no-such-schedule', { enabled: false })).statusCode).toBe(404);
    });
  });

  describe('DELETE /schedules/:name', () => {
    it('deletes the row and the job scheduler; a second delete is a 404', async () => {
      expect(await scheduler('nightly-report')).toBeDefined();
      const response = await send(app, 'DELETE', '/schedules/nightly-report');
      expect(response.statusCode).toBe(204);
      expect((await scheduleRows(db.url)).map((row) => row.name)).toEqual(['paused.one']);
      expect(await scheduler('nightly-report')).toBeUndefined();
      expect((await send(app, 'GET', '/schedules/nightly-report')).statusCode).toBe(404);
      expect((await send(app, 'DELETE', '/schedules/nightly-report')).statusCode).toBe(404);
    });
  });

  describe('POST /schedules/:name/pause and /resume', () => {
    const onDemand = { name: 'on-demand', cron: '0 0 1 1 *', tz: 'UTC', type: 'sleep', payload: { ms: 5 } };

    beforeAll(async () => {
      expect((await send(app, 'POST', '/schedules', onDemand)).statusCode).toBe(201);
    });

    it('pause is PATCH enabled false: the row stays, disabled, and its job scheduler goes; pausing again changes nothing', async () => {
      expect(await scheduler('on-demand')).toBeDefined();
      const response = await send(app, 'POST', '/schedules/on-demand/pause');
      expect(response.statusCode).toBe(200);
      expect(response.json<ScheduleView>()).toMatchObject({ ...onDemand, enabled: false, nextRunAt: null });
      expect((await scheduleRows(db.url)).find((row) => row.name === 'on-demand')).toMatchObject({ ...onDemand, enabled: false });
      expect(await scheduler('on-demand')).toBeUndefined();

      const again = await send(app, 'POST', '/schedules/on-demand/pause');
      expect(again.statusCode).toBe(200);
      expect(again.json<ScheduleView>()).toMatchObject({ enabled: false, nextRunAt: null });
      expect(await scheduler('on-demand')).toBeUndefined();
    });

    it('resume is PATCH enabled true: its job scheduler is back, and the answer names the next run', async () => {
      const response = await send(app, 'POST', '/schedules/on-demand/resume');
      expect(response.statusCode).toBe(200);
      const view = response.json<ScheduleView>();
      expect(view).toMatchObject({ ...onDemand, enabled: true, nextRunAt: expect.any(String) });
      expect((await scheduleRows(db.url)).find((row) => row.name === 'on-demand')).toMatchObject({ enabled: true });
      expect(await scheduler('on-demand')).toMatchObject({ pattern: '0 0 1 1 *', next: new Date(view.nextRunAt ?? '').getTime() });
    });

    it.each(['pause', 'resume', 'run'])('%s answers 404 for an unknown name, and changes nothing', async (action) => {
      const rows = await scheduleRows(db.url);
      const tasks = await countTasks(db.url);
      const response = await send(app, 'POST', `/schedules/no-such-schedule/${action}`);
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.json<Problem>()).toMatchObject({ type: '/problems/not-found', detail: 'No schedule named "no-such-schedule".' });
      expect(await scheduleRows(db.url)).toEqual(rows);
      expect(await countTasks(db.url)).toBe(tasks);
    });
  });

  describe('POST /schedules/:name/run', () => {
    it('submits one task from the schedule at once: 202 with its Location; stored with the schedule name, its job queued, the run noted', async () => {
      const registered = await scheduler('on-demand');
      const response = await send(app, 'POST', '/schedules/on-demand/run');
      expect(response.statusCode).toBe(202);
      const task = response.json<SubmitTaskResponse>();
      expect(task).toEqual({ id: expect.any(String), type: 'sleep', status: 'queued', createdAt: expect.any(String) });
      expect(response.headers['location']).toBe(`/tasks/${task.id}`);

      expect((await send(app, 'GET', `/tasks/${task.id}`)).json<TaskView>()).toMatchObject({
        type: 'sleep',
        payload: { ms: 5 },
        scheduleName: 'on-demand',
        tenant: 'default',
        idempotencyKey: null,
        maxAttempts: getTaskType('sleep').attempts,
      });
      // Nothing serves the queue here: the job waits under the task id (unprioritised tasks wait as `prioritized`).
      expect(await producer.queue('sleep').getJobState(task.id)).toBe('prioritized');
      expect((await send(app, 'GET', '/schedules/on-demand')).json<ScheduleView>().lastRunAt).toBe(task.createdAt);
      // Its cron runs go on as before.
      expect(await scheduler('on-demand')).toEqual(registered);
    });

    it('runs a paused schedule too, and each call submits a new task', async () => {
      expect((await send(app, 'POST', '/schedules/on-demand/pause')).statusCode).toBe(200);
      const first = (await send(app, 'POST', '/schedules/on-demand/run')).json<SubmitTaskResponse>();
      const second = (await send(app, 'POST', '/schedules/on-demand/run')).json<SubmitTaskResponse>();
      expect(second.id).not.toBe(first.id);
      const listed = (await send(app, 'GET', '/tasks?schedule=on-demand')).json<TaskPage>().items.map((item) => item.id);
      expect(listed).toHaveLength(3);
      expect(listed).toEqual(expect.arrayContaining([first.id, second.id]));
      expect(await scheduler('on-demand')).toBeUndefined();
      expect((await scheduleRows(db.url)).find((row) => row.name === 'on-demand')).toMatchObject({ enabled: false });
    });

    it("answers 409 when the stored schedule's task no longer validates, and stores nothing", async () => {
      // As if the type's payload rules had changed since the schedule was saved.
      await queryDatabase(db.url, `UPDATE schedules SET payload = '{"ms": -1}' WHERE name = 'on-demand'`);
      const tasks = await countTasks(db.url);
      const response = await send(app, 'POST', '/schedules/on-demand/run');
      expect(response.statusCode).toBe(409);
      expect(response.json<Problem>()).toMatchObject({ type: '/problems/schedule-invalid', detail: expect.stringContaining('payload.ms') });
      expect(await countTasks(db.url)).toBe(tasks);
      await queryDatabase(db.url, `UPDATE schedules SET payload = '{"ms": 5}' WHERE name = 'on-demand'`);
    });
  });

  describe('tasks created by schedules', () => {
    it('carry the schedule name, and GET /tasks filters by it; submitted tasks have none', async () => {
      // The monitor creates scheduled tasks; here one is stored the same way, through the shared libs.
      const dataSource = await openDataSource({ url: db.url });
      try {
        const store = new TaskAdmissions(dataSource);
        for (let i = 0; i < 2; i++) {
          const prepared = await prepareTask({ type: 'noop', payload: { note: `run ${i}` } }, { tenant: 'default', idempotencyKey: `schedule hourly ${i}`, now: new Date(), scheduleName: 'hourly' });
          if (!prepared.ok) throw new Error('not prepared');
          await store.createTask(prepared.task);
        }
      } finally {
        await dataSource.destroy();
      }
      const submitted = (await send(app, 'POST', '/tasks', { type: 'noop', payload: {} })).json<{ id: string }>();

      const page = (await send(app, 'GET', '/tasks?schedule=hourly')).json<TaskPage>();
      expect(page.items.map((item) => [item.scheduleName, item.type])).toEqual([
        ['hourly', 'noop'],
        ['hourly', 'noop'],
      ]);
      expect((await send(app, 'GET', `/tasks/${page.items[0]?.id ?? ''}`)).json<TaskView>().scheduleName).toBe('hourly');
      expect((await send(app, 'GET', `/tasks/${submitted.id}`)).json<TaskView>().scheduleName).toBeNull();
      expect((await send(app, 'GET', '/tasks?schedule=other')).json<TaskPage>().items).toEqual([]);
      expect((await send(app, 'GET', `/tasks?schedule=${'x'.repeat(101)}`)).statusCode).toBe(400);
    });
  });

  it('registers the enabled schedules again at start-up when Redis lost them', async () => {
    await send(app, 'POST', '/schedules', { name: 'survivor', cron: '0 * * * *', type: 'noop', payload: {} });
    await deleteRedisPrefix(prefix);
    // A stray scheduler PostgreSQL does not know goes away too.
    await queue.register({ name: 'stray', cron: '* * * * *', tz: null });

    const restarted = await startApi(db.url, prefix);
    try {
      expect(await scheduler('survivor')).toMatchObject({ pattern: '0 * * * *' });
      expect(await scheduler('stray')).toBeUndefined();
      expect(await scheduler('paused.one')).toBeUndefined();
    } finally {
      await restarted.close();
    }
  });
});

describe('schedules API while Redis is down', () => {
  const db = testDatabase('api_schedules_outage');
  let redis: PrivateRedis;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    app = await startApi(db.url, uniquePrefix('schedules-outage'), { REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await db.drop();
  });

  it('answers 503 to every change and leaves PostgreSQL as it was', async () => {
    expect((await send(app, 'POST', '/schedules', { name: 'kept', cron: '0 * * * *', type: 'noop', payload: {} })).statusCode).toBe(201);
    const before = await scheduleRows(db.url);
    await redis.stop();

    const started = Date.now();
    const requests: Array<[string, ReturnType<typeof send>]> = [
      ['create', send(app, 'POST', '/schedules', { name: 'new-one', cron: '0 * * * *', type: 'noop', payload: {} })],
      ['update', send(app, 'PATCH', '/schedules/kept', { cron: '*/5 * * * *' })],
      ['disable', send(app, 'PATCH', '/schedules/kept', { enabled: false })],
      ['delete', send(app, 'DELETE', '/schedules/kept')],
      ['read', send(app, 'GET', '/schedules/kept')],
      ['pause', send(app, 'POST', '/schedules/kept/pause')],
      ['resume', send(app, 'POST', '/schedules/kept/resume')],
      ['run', send(app, 'POST', '/schedules/kept/run')],
    ];
    for (const [what, request] of requests) {
      const response = await request;
      expect([what, response.statusCode]).toEqual([what, 503]);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.json<Problem>()).toMatchObject({ type: '/problems/service-unavailable', status: 503 });
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await scheduleRows(db.url)).toEqual(before);
    // The run's task was withdrawn when its job could not be queued.
    expect(await countTasks(db.url)).toBe(0);
    // Bad input is still a 400, not a 503.
    expect((await send(app, 'POST', '/schedules', { name: 'bad', cron: 'nope', type: 'noop', payload: {} })).statusCode).toBe(400);
    expect(await scheduleRows(db.url)).toEqual(before);
  });
});
