import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { CreatedApiKeyView } from '@taskq/contracts';
import { deleteRedisPrefix, testDatabase, uniquePrefix } from '@taskq/testing';
import { PROBLEM_JSON, startApi } from '../tasks/testing/test-apps';

/** Per-key rate limits counted in Redis: two API replicas share one limit per key. */
const db = testDatabase('api_rate_limit');
const prefix = uniquePrefix('api-rate-limit');
let replicaA: NestFastifyApplication;
let replicaB: NestFastifyApplication;
let busy: CreatedApiKeyView;
let quiet: CreatedApiKeyView;

const LIMIT = 5;

beforeAll(async () => {
  const env = { RATE_LIMIT_REQUESTS: String(LIMIT), RATE_LIMIT_WINDOW_MS: '60000' };
  replicaA = await startApi(db.url, prefix, env);
  replicaB = await startApi(db.url, prefix, env);
  const create = async (name: string): Promise<CreatedApiKeyView> =>
    (await replicaA.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name, scopes: ['tasks:read'] }) })).json<CreatedApiKeyView>();
  busy = await create('busy');
  quiet = await create('quiet');
});

afterAll(async () => {
  await replicaA?.close();
  await replicaB?.close();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

describe('rate limits', () => {
  it('holds one limit per key across replicas, then answers 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const replica = i % 2 === 0 ? replicaA : replicaB;
      statuses.push((await replica.inject({ method: 'GET', url: '/tasks', headers: { authorization: `Bearer ${busy.key}` } })).statusCode);
    }
    expect(statuses).toEqual(Array(LIMIT).fill(200));

    const limited = await replicaB.inject({ method: 'GET', url: '/tasks', headers: { authorization: `Bearer ${busy.key}` } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(limited.json()).toMatchObject({ type: '/problems/too-many-requests', status: 429, detail: expect.stringContaining(`more than ${LIMIT} requests in 60 s`) });
    expect((await replicaA.inject({ method: 'GET', url: '/tasks', headers: { authorization: `Bearer ${busy.key}` } })).statusCode).toBe(429);
    // The limit is the key's, on every route.
    expect((await replicaA.inject({ method: 'GET', url: '/task-types', headers: { authorization: `Bearer ${busy.key}` } })).statusCode).toBe(429);
  });

  it('counts each key on its own and never limits health checks', async () => {
    expect((await replicaA.inject({ method: 'GET', url: '/tasks', headers: { authorization: `Bearer ${quiet.key}` } })).statusCode).toBe(200);
    for (let i = 0; i < LIMIT * 2; i++) expect((await replicaB.inject({ method: 'GET', url: '/health', headers: { authorization: undefined } as unknown as Record<string, string> })).statusCode).toBe(200);
  });
});
