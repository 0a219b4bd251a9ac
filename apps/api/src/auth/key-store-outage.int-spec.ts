import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { deleteRedisPrefix, testDatabase, uniquePrefix } from '@taskq/testing';
import { PROBLEM_JSON, startApi } from '../tasks/testing/test-apps';

/** When PostgreSQL is gone no key can be checked: that is a 503 for the client to retry, not a 401. */
const db = testDatabase('api_key_outage');
const prefix = uniquePrefix('api-key-outage');
let app: NestFastifyApplication;

beforeAll(async () => {
  app = await startApi(db.url, prefix);
});

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await deleteRedisPrefix(prefix);
  await db.drop();
});

it('answers 503 (with a request id, no details) when the key store does not answer', async () => {
  await db.drop();

  const response = await app.inject({ method: 'GET', url: '/tasks', headers: { authorization: `Bearer tq_${'K'.repeat(12)}_${'k'.repeat(43)}` } });

  expect(response.statusCode).toBe(503);
  expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(response.json()).toEqual({
    type: '/problems/service-unavailable',
    title: 'Service unavailable',
    status: 503,
    detail: 'API keys cannot be checked: the key store (PostgreSQL) is unavailable. Retry later.',
    requestId: expect.any(String),
  });
});
