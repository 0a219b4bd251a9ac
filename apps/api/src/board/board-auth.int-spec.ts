import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { SubmitTaskResponse } from '@taskq/contracts';
import { DEAD_LETTER_QUEUE, TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor } from '@taskq/testing';
import { PROBLEM_JSON, send, startApi, startWorker, waitForStatus } from '../tasks/testing/test-apps';
import { BOARD_CHALLENGE } from './board-auth.hook';
import { BOARD_PATH, mountBullBoard } from './bull-board';

jest.setTimeout(60_000);

const ACCOUNTS = { BOARD_ADMIN_USER: 'admin', BOARD_ADMIN_PASSWORD: 'admin-secret', BOARD_VIEWER_USER: 'viewer', BOARD_VIEWER_PASSWORD: 'viewer-secret' };
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', 'admin-secret');
const VIEWER = basic('viewer', 'viewer-secret');

const SLEEP = encodeURIComponent('{sleep}');
const DLQ = encodeURIComponent(DEAD_LETTER_QUEUE);

interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
  allowRetries: boolean;
  jobs: Array<{ id: string; externalUrl?: { href: string; displayText?: string } }>;
}

/**
 * Bull Board's routes are Fastify routes, not Nest controllers: no Nest guard protects them.
 * These tests knock on every kind of board route (HTML page, JSON API, static files, the
 * internal read-only board) with no, wrong and right credentials, against a real queue that
 * holds a real failed job, and check in Redis that a refused request changed nothing.
 */
describe(mountBullBoard.name, () => {
  const db = testDatabase('board_auth');
  const prefix = uniquePrefix('board-auth');
  let sut: NestFastifyApplication;
  let redis: Redis;
  let failedId: string;
  let staticAsset: string;

  const request = (method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', url: string, authorization?: string, payload?: unknown): Promise<LightMyRequestResponse> =>
    sut.inject({
      method,
      url,
      headers: { ...(authorization === undefined ? {} : { authorization }), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  /** Every key under this file's prefix with a digest of its serialised value: any write shows. */
  const redisState = async (): Promise<Record<string, string>> => {
    const state: Record<string, string> = {};
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const dump = await redis.dumpBuffer(key);
        state[key] = dump ? createHash('sha256').update(dump).digest('hex') : 'gone';
      }
    } while (cursor !== '0');
    return state;
  };

  const queues = async (authorization: string, query = ''): Promise<BoardQueue[]> => {
    const response = await request('GET', `${BOARD_PATH}/api/queues${query}`, authorization);
    expect(response.statusCode).toBe(200);
    return response.json<{ queues: BoardQueue[] }>().queues;
  };

  /** Board API calls that change queues or jobs, each aimed at the failed job or its queue. */
  const mutatingCalls = (): Array<[method: 'PUT' | 'POST' | 'PATCH', url: string, payload?: unknown]> => [
    ['PUT', `${BOARD_PATH}/api/queues/pause`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/pause`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/retry/failed`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/clean/failed`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/empty`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/obliterate`],
    ['POST', `${BOARD_PATH}/api/queues/${SLEEP}/add`, { name: 'sleep', data: { ms: 1 } }],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/retry`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/clean`],
    ['PUT', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/promote`],
    ['PATCH', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/update-data`, { ms: 2 }],
    ['PUT', `${BOARD_PATH}/api/queues/${DLQ}/${failedId}/clean`],
    ['PUT', `${BOARD_PATH}/read-only/api/queues/${SLEEP}/${failedId}/retry`],
  ];

  beforeAll(async () => {
    sut = await startApi(db.url, prefix, ACCOUNTS);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });

    // A dead task for real: its only attempt outlives its deadline on a worker process; the
    // worker fails its job and mirrors it into the dead-letter queue. Then the worker goes,
    // so nothing but the requests under test touches the queues.
    const worker = await startWorker(db.url, prefix);
    try {
      const submitted = await send(sut, 'POST', '/tasks', { type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 1 });
      expect(submitted.statusCode).toBe(202);
      failedId = submitted.json<SubmitTaskResponse>().id;
      await waitForStatus(db.url, failedId, 'dead');
      const sleepQueue = sut.get(TaskProducer).queue('sleep');
      await waitFor(async () => (await sleepQueue.getJobState(failedId)) === 'failed', { description: `job ${failedId} failed` });
    } finally {
      await worker.close();
    }
    await waitFor(async () => (await redis.exists(`${prefix}:${DEAD_LETTER_QUEUE}:${failedId}`)) === 1, { description: 'dead-letter mirror job' });

    const page = await request('GET', BOARD_PATH, ADMIN);
    staticAsset = `${BOARD_PATH}/${/src="(static\/js\/main\.[\w.]+\.js)"/.exec(page.body)?.[1] ?? 'main script not found'}`;
  });

  afterAll(async () => {
    await sut?.close();
    await redis?.quit();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  describe('without credentials or with wrong ones', () => {
    const wrong: Array<[string, string | undefined]> = [
      ['no credentials', undefined],
      ["the admin's user with a wrong password", basic('admin', 'admin-secreT')],
      ['an unknown user', basic('root', 'admin-secret')],
      ["the viewer's user with the admin's password", basic('viewer', 'admin-secret')],
      ['a malformed header', 'Basic not-base64!'],
      ['a bearer token', 'Bearer admin-secret'],
    ];

    it.each(wrong)('answers 401 with a challenge to every board page, API call and static file: %s', async (_case, authorization) => {
      const reads = [
        BOARD_PATH,
        `${BOARD_PATH}/`,
        `${BOARD_PATH}/queue/${SLEEP}`,
        `${BOARD_PATH}/queue/${SLEEP}/${failedId}`,
        `${BOARD_PATH}/api/queues`,
        `${BOARD_PATH}/api/queues?activeQueue=${SLEEP}&status=failed&page=1&jobsPerPage=10`,
        `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}`,
        `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/logs`,
        `${BOARD_PATH}/api/redis/stats`,
        staticAsset,
        `${BOARD_PATH}/static/favicon-32x32.png`,
        `${BOARD_PATH}/read-only/api/queues`,
        `${BOARD_PATH}/no-such-page`,
        // find-my-way decodes the path before routing: the hook is bound to the routes, not to the spelling.
        '/admin/%71ueues/api/queues',
      ];
      const calls: Array<[string, string, unknown?]> = [...reads.map((url): [string, string] => ['GET', url]), ...mutatingCalls()];
      for (const [method, url, payload] of calls) {
        const response = await request(method as 'GET', url, authorization, payload);
        expect({ call: `${method} ${url}`, status: response.statusCode }).toEqual({ call: `${method} ${url}`, status: 401 });
        expect(response.headers['www-authenticate']).toBe(BOARD_CHALLENGE);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(response.json()).toMatchObject({ type: '/problems/unauthorized', status: 401 });
        expect(response.body).not.toMatch(/\{sleep\}|<html/);
      }
    });

    it('changes nothing in Redis: the failed job, its queue and the dead-letter mirror stay as they were', async () => {
      const before = await redisState();
      expect(Object.keys(before).length).toBeGreaterThan(0);
      for (const [method, url, payload] of mutatingCalls()) {
        expect((await request(method, url, undefined, payload)).statusCode).toBe(401);
        expect((await request(method, url, basic('admin', 'wrong'), payload)).statusCode).toBe(401);
      }
      expect(await redisState()).toEqual(before);
      const sleepQueue = sut.get(TaskProducer).queue('sleep');
      expect(await sleepQueue.getJobState(failedId)).toBe('failed');
      expect(await sleepQueue.isPaused()).toBe(false);
      expect((await sleepQueue.getJob(failedId))?.data).toEqual({ taskId: failedId, type: 'sleep' });
    });
  });

  describe('as the viewer', () => {
    it('sees the board read-only: the page, and every queue marked readOnlyMode without retries', async () => {
      const page = await request('GET', BOARD_PATH, VIEWER);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<base href="/admin/queues/"');
      expect((await request('GET', staticAsset, VIEWER)).statusCode).toBe(200);

      const seen = await queues(VIEWER, `?activeQueue=${SLEEP}&status=failed&page=1&jobsPerPage=10`);
      expect(seen.map((queue) => queue.name).sort()).toEqual(['{dead-letter}', '{email}', '{noop}', '{report}', '{sleep}', '{webhook}']);
      expect(seen.every((queue) => queue.readOnlyMode && !queue.allowRetries)).toBe(true);
      expect(seen.find((queue) => queue.name === '{sleep}')?.jobs.map((job) => job.id)).toEqual([failedId]);
      expect((await request('GET', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}`, VIEWER)).statusCode).toBe(200);
    });

    it('is refused (403) every call that could change something, and nothing changes', async () => {
      const before = await redisState();
      for (const [method, url, payload] of mutatingCalls()) {
        const response = await request(method, url, VIEWER, payload);
        expect({ call: `${method} ${url}`, status: response.statusCode }).toEqual({ call: `${method} ${url}`, status: 403 });
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(response.json()).toMatchObject({ type: '/problems/forbidden', status: 403 });
      }
      expect(await redisState()).toEqual(before);
      expect(await sut.get(TaskProducer).queue('sleep').getJobState(failedId)).toBe('failed');
    });

    it('cannot reach the full board by spelling its URL differently', async () => {
      const response = await request('GET', '/admin/%71ueues/api/queues', VIEWER);
      expect(response.statusCode).toBe(403);
    });
  });

  describe('as the admin', () => {
    it('sees every queue with full control, and each job links to its task', async () => {
      const seen = await queues(ADMIN, `?activeQueue=${SLEEP}&status=failed&page=1&jobsPerPage=10`);
      expect(seen.every((queue) => !queue.readOnlyMode && queue.allowRetries)).toBe(true);
      const [failed] = seen.find((queue) => queue.name === '{sleep}')?.jobs ?? [];
      expect(failed).toMatchObject({ id: failedId, externalUrl: { href: `/tasks/${failedId}` } });

      const [dead] = (await queues(ADMIN, `?activeQueue=${DLQ}&status=latest&page=1&jobsPerPage=10`)).find((queue) => queue.name === DEAD_LETTER_QUEUE)?.jobs ?? [];
      expect(dead).toMatchObject({ id: failedId, externalUrl: { href: `/tasks/${failedId}` } });

      // The link leads to the task in the REST API.
      const task = await send(sut, 'GET', failed?.externalUrl?.href ?? '/missing');
      expect(task.statusCode).toBe(200);
      expect(task.json()).toMatchObject({ id: failedId, status: 'dead' });
    });

    it('answers 404 as a problem for a URL under the board that is nothing', async () => {
      const response = await request('GET', `${BOARD_PATH}/no-such-page`, ADMIN);
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    });

    it('can act on a job: retrying the failed job moves it out of the failed state', async () => {
      const before = await redisState();
      const response = await request('PUT', `${BOARD_PATH}/api/queues/${SLEEP}/${failedId}/retry`, ADMIN);
      expect(response.statusCode).toBe(204);
      expect(await sut.get(TaskProducer).queue('sleep').getJobState(failedId)).toMatch(/^(waiting|prioritized)$/);
      // The snapshot the refusals were checked with does see a change.
      expect(await redisState()).not.toEqual(before);
    });
  });
});

describe('Bull Board without any account configured', () => {
  const db = testDatabase('board_no_account');
  const prefix = uniquePrefix('board-no-account');
  let sut: NestFastifyApplication;
  const warnings: string[] = [];

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    sut = await startApi(db.url, prefix);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await sut?.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('stays mounted but answers 401 to everything, and says why at start-up', async () => {
    expect(warnings).toContainEqual(expect.stringMatching(/no Bull Board account is configured: \/admin\/queues answers 401/));
    for (const authorization of [undefined, basic('', ''), basic('admin', 'admin'), basic('admin', '')]) {
      for (const url of [BOARD_PATH, `${BOARD_PATH}/api/queues`, `${BOARD_PATH}/static/favicon-32x32.png`]) {
        const response = await sut.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 401 });
        expect(response.json()).toMatchObject({ status: 401, detail: expect.stringContaining('BOARD_ADMIN_USER') });
      }
    }
  });
});
