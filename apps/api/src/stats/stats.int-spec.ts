import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
import { TASK_TYPE_NAMES, type CreatedApiKeyView, type TaskStatsView, type TaskTypeStats } from '@taskq/contracts';
import { queryDatabase, startPrivateRedis, testDatabase, uniquePrefix, waitFor, type PrivateRedis } from '@taskq/testing';
import { PROBLEM_JSON, send, startApi } from '../tasks/testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; messages: string[] }>;
}

const statsOf = (response: LightMyRequestResponse): TaskStatsView => {
  expect(response.statusCode).toBe(200);
  return response.json<TaskStatsView>();
};
const typeOf = (stats: TaskStatsView, type: string): TaskTypeStats => {
  const found = stats.types.find((entry) => entry.type === type);
  if (!found) throw new Error(`no figures for ${type}`);
  return found;
};
/** The index of the window's minute `time` falls in. */
const minuteIndex = (stats: TaskStatsView, time: Date): number => Math.floor((time.getTime() - Date.parse(stats.from)) / 60_000);

describe('GET /stats', () => {
  const api = useApiHarness({ label: 'api_stats' });
  const get = (url: string, key?: string): Promise<LightMyRequestResponse> =>
    api.app.inject({ method: 'GET', url, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });

  /**
   * A finished task as the workers leave it (libs/persistence's task-stats.int-spec writes them
   * through the workers' own AttemptLog): one attempt per outcome given, each carrying the task's
   * type and tenant, and the task the run time of its latest.
   */
  async function seedTask(task: { type: string; status: string; tenant: string; finishedAt: Date }, attempts: Array<{ outcome: string; finishedAt: Date; durationMs: number }>): Promise<void> {
    const id = randomUUID();
    await queryDatabase(
      api.db.url,
      `INSERT INTO tasks (id, type, status, tenant, payload, max_attempts, attempts_made, backoff, timeout_ms, created_at, updated_at, finished_at, last_attempt_ms)
       VALUES ($1, $2, $3, $4, '{}', 5, $5, '{"type":"fixed","delayMs":10,"maxDelayMs":10,"jitter":"none"}', 1000, $6, $6, $6, $7)`,
      [id, task.type, task.status, task.tenant, attempts.length, task.finishedAt, attempts.at(-1)?.durationMs ?? null],
    );
    for (const [index, attempt] of attempts.entries()) {
      await queryDatabase(
        api.db.url,
        `INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome, type, tenant) VALUES ($1, $2, 'w1', $3, $3, $4, $5, $6, $7)`,
        [id, index + 1, attempt.finishedAt, attempt.durationMs, attempt.outcome, task.type, task.tenant],
      );
    }
  }

  let acmeReader: string;
  const minutesAgo = (minutes: number): Date => new Date(Date.now() - minutes * 60_000);
  const times = { acmeDone: minutesAgo(3), globexDone: minutesAgo(3), acmeFailed: minutesAgo(2), acmeDead: minutesAgo(1), longAgo: minutesAgo(30) };

  beforeAll(async () => {
    const created = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'acme-dashboard', scopes: ['tasks:read'], tenant: 'acme' }) });
    acmeReader = created.json<CreatedApiKeyView>().key;
    await seedTask({ type: 'noop', status: 'completed', tenant: 'acme', finishedAt: times.acmeDone }, [{ outcome: 'completed', finishedAt: times.acmeDone, durationMs: 40 }]);
    await seedTask({ type: 'noop', status: 'completed', tenant: 'globex', finishedAt: times.globexDone }, [{ outcome: 'completed', finishedAt: times.globexDone, durationMs: 60 }]);
    await seedTask({ type: 'sleep', status: 'dead', tenant: 'acme', finishedAt: times.acmeDead }, [
      { outcome: 'failed', finishedAt: times.acmeFailed, durationMs: 5 },
      { outcome: 'timed_out', finishedAt: times.acmeDead, durationMs: 1000 },
    ]);
    await seedTask({ type: 'noop', status: 'completed', tenant: 'acme', finishedAt: times.longAgo }, [{ outcome: 'completed', finishedAt: times.longAgo, durationMs: 9_000 }]);
    // Jobs waiting in Redis (no worker here): unprioritised tasks wait as `prioritized` (see TaskProducer), delayed ones as `delayed`.
    for (let i = 0; i < 3; i++) expect((await send(api.app, 'POST', '/tasks', { type: 'noop', payload: {} })).statusCode).toBe(202);
    for (let i = 0; i < 2; i++) expect((await send(api.app, 'POST', '/tasks', { type: 'sleep', payload: { ms: 1 }, delayMs: 3_600_000 })).statusCode).toBe(202);
  });

  it("gives every registered type's queue depth and, per minute of the window, every tenant's completions, failed attempts and deaths", async () => {
    const stats = statsOf(await get('/stats?windowMinutes=10'));
    expect(stats).toMatchObject({ tenant: null, windowMinutes: 10 });
    expect(Date.parse(stats.to) - Date.parse(stats.from)).toBe(10 * 60_000);
    expect(stats.types.map((entry) => entry.type)).toEqual(TASK_TYPE_NAMES);
    for (const entry of stats.types) for (const series of [entry.completed, entry.failedAttempts, entry.dead]) expect(series.perMinute).toHaveLength(10);

    const perMinute = (...times: Date[]): number[] => {
      const counts = new Array<number>(10).fill(0);
      for (const time of times) counts[minuteIndex(stats, time)] = (counts[minuteIndex(stats, time)] ?? 0) + 1;
      return counts;
    };
    const noop = typeOf(stats, 'noop');
    expect(noop).toEqual({
      type: 'noop',
      depth: { waiting: 0, prioritized: 3, delayed: 0, active: 0, failed: 0 },
      completed: { perMinute: perMinute(times.acmeDone, times.globexDone), total: 2 },
      failedAttempts: { perMinute: perMinute(), total: 0 },
      dead: { perMinute: perMinute(), total: 0 },
      // 40 and 60 ms: the 9 s attempt is older than the window.
      durationMs: { p50: 50, p95: 59 },
    });
    expect(typeOf(stats, 'sleep')).toEqual({
      type: 'sleep',
      depth: { waiting: 0, prioritized: 0, delayed: 2, active: 0, failed: 0 },
      completed: { perMinute: perMinute(), total: 0 },
      failedAttempts: { perMinute: perMinute(times.acmeFailed, times.acmeDead), total: 2 },
      dead: { perMinute: perMinute(times.acmeDead), total: 1 },
      durationMs: { p50: null, p95: null },
    });
    expect(typeOf(stats, 'email')).toMatchObject({ completed: { total: 0 }, durationMs: { p50: null, p95: null } });
  });

  it("counts a tenant key's own tasks only; the queue depths are the queues', every tenant's", async () => {
    const stats = statsOf(await get('/stats?windowMinutes=10', acmeReader));
    expect(stats.tenant).toBe('acme');
    expect(typeOf(stats, 'noop')).toMatchObject({ depth: { prioritized: 3 }, completed: { total: 1 }, durationMs: { p50: 40, p95: 40 } });
    expect(typeOf(stats, 'sleep')).toMatchObject({ failedAttempts: { total: 2 }, dead: { total: 1 } });
    expect(statsOf(await get('/stats?windowMinutes=10&tenant=acme', acmeReader)).tenant).toBe('acme');
  });

  it("gives an admin key one tenant's history with `tenant`", async () => {
    const stats = statsOf(await get('/stats?windowMinutes=10&tenant=globex'));
    expect(stats.tenant).toBe('globex');
    expect(typeOf(stats, 'noop')).toMatchObject({ completed: { total: 1 }, durationMs: { p50: 60, p95: 60 } });
    expect(typeOf(stats, 'sleep')).toMatchObject({ failedAttempts: { total: 0 }, dead: { total: 0 } });
  });

  it('covers the last 60 whole minutes by default, the current one last, and up to 1440', async () => {
    const before = Date.now();
    const stats = statsOf(await get('/stats'));
    expect(stats.windowMinutes).toBe(60);
    expect(typeOf(stats, 'noop').completed.perMinute).toHaveLength(60);
    expect(Date.parse(stats.to) % 60_000).toBe(0);
    expect(Date.parse(stats.to)).toBeGreaterThan(before);
    expect(Date.parse(stats.to) - before).toBeLessThanOrEqual(60_000);
    expect(Date.parse(stats.to) - Date.parse(stats.from)).toBe(60 * 60_000);
    // The 30-minute-old completion is in this window.
    expect(typeOf(stats, 'noop').completed.total).toBe(3);
    expect(typeOf(statsOf(await get('/stats?windowMinutes=1440')), 'noop').completed.perMinute).toHaveLength(1440);
  });

  it.each<[string, string]>([
    ['windowMinutes=0', 'windowMinutes'],
    ['windowMinutes=1441', 'windowMinutes'],
    ['windowMinutes=1.5', 'windowMinutes'],
    ['windowMinutes=an-hour', 'windowMinutes'],
    ['tenant=..%2Fetc', 'tenant'],
    ['colour=red', 'colour'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    const response = await get(`/stats?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<Problem>().errors?.map((error) => error.field)).toEqual([field]);
  });

  it('answers 403 to a tenant key naming another tenant', async () => {
    const response = await get('/stats?tenant=globex', acmeReader);
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<Problem>()).toMatchObject({ type: '/problems/forbidden', status: 403 });
  });
});

describe('GET /stats while a store is down', () => {
  const db = testDatabase('api_stats_outage');
  const prefix = uniquePrefix('api-stats-outage');
  let redis: PrivateRedis;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    app = await startApi(db.url, prefix, { REDIS_URL: redis.url, RATE_LIMIT_REQUESTS: '0' });
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await redis?.stop();
    await db.drop();
  });

  it('answers 503 with Retry-After, naming Redis when Redis is down and PostgreSQL when PostgreSQL is', async () => {
    expect((await send(app, 'GET', '/stats')).statusCode).toBe(200);

    await redis.stop();
    const started = Date.now();
    const noRedis = await send(app, 'GET', '/stats');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(noRedis.statusCode).toBe(503);
    expect(noRedis.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(noRedis.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));
    expect(noRedis.json<Problem>()).toMatchObject({ type: '/problems/service-unavailable', detail: expect.stringContaining('The queue (Redis) is unavailable') });

    redis = await startPrivateRedis({ port: Number(new URL(redis.url).port) });
    await waitFor(async () => (await send(app, 'GET', '/stats')).statusCode === 200, { description: 'the API reads Redis again' });
    await db.drop();
    const noPostgres = await send(app, 'GET', '/stats');
    expect(noPostgres.statusCode).toBe(503);
    expect(noPostgres.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));
    expect(noPostgres.json<Problem>()).toMatchObject({ type: '/problems/service-unavailable', detail: expect.stringContaining('The task store (PostgreSQL) is unavailable') });
  });
});
