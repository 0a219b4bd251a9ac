import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parsePrometheusText, queryDatabase, startPrivateRedis, testDatabase, uniquePrefix, type PrivateRedis } from '@taskq/testing';
import { startApi } from '../tasks/testing/test-apps';

const db = testDatabase('api_outage');
let redis: PrivateRedis;
let app: NestFastifyApplication;

beforeAll(async () => {
  redis = await startPrivateRedis();
  app = await startApi(db.url, uniquePrefix('outage'), { REDIS_URL: redis.url, BOARD_ADMIN_USER: 'admin', BOARD_ADMIN_PASSWORD: 'admin-secret' });
});

afterAll(async () => {
  await app?.close();
  await redis?.stop();
  await db.drop();
});

describe('when Redis goes away', () => {
  it('reports not ready, and refuses submissions with a 503 leaving nothing stored', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    await redis.stop();

    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ type: '/problems/not-ready', detail: 'Unreachable: redis.', checks: { redis: { status: 'down' }, postgres: { status: 'up' } } });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    const started = Date.now();
    const response = await app.inject({
      method: 'POST',
      url: '/submit-task',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'noop', payload: {} }),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(ready.headers['retry-after']).toBe('5');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 503, type: '/problems/service-unavailable', requestId: expect.any(String) });
    expect(await queryDatabase(db.url, 'SELECT id FROM tasks')).toEqual([]);
  });

  it("answers the dashboard's API with a 503 and Retry-After, not Bull Board's 500", async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues?activeQueue=&page=1&jobsPerPage=10',
      headers: { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` },
    });

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ type: '/problems/service-unavailable', status: 503 });
  });

  it('still answers /metrics, without the queue depths, and says so', async () => {
    const started = Date.now();
    const response = await app.inject({ method: 'GET', url: '/metrics' });

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const scrape = parsePrometheusText(response.body);
    expect(scrape.value('taskq_queue_depth_up')).toBe(0);
    expect(scrape.select('taskq_queue_jobs')).toEqual([]);
    expect(scrape.select('taskq_dead_letter_jobs')).toEqual([]);
    expect(scrape.value('taskq_tasks_submitted_total', { type: 'noop' })).toBe(0);
  });
});
