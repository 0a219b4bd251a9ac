import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import type { SubmitTaskResponse } from '@taskq/contracts';
import { TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix } from '@taskq/testing';
import { PROBLEM_JSON, send, startApi } from './testing/test-apps';

/**
 * Concurrent submissions share their Redis round trips: each group-committed batch's jobs go
 * out as one addBulk per queue. A batch whose addBulk fails is withdrawn — exactly its tasks,
 * whose requests get 503 with Retry-After — while the other batches' tasks stay accepted.
 */
const db = testDatabase('api_submission_batching');
const prefix = uniquePrefix('api-submission-batching');
let app: NestFastifyApplication;
let producer: TaskProducer;
let redis: Redis;

beforeAll(async () => {
  app = await startApi(db.url, prefix);
  producer = app.get(TaskProducer);
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await app?.close();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

afterEach(() => jest.restoreAllMocks());

const storedIds = async (type: string): Promise<string[]> => (await queryDatabase<{ id: string }>(db.url, 'SELECT id FROM tasks WHERE type = $1', [type])).map((row) => row.id);
const queuedIds = async (type: 'noop' | 'sleep' | 'report'): Promise<string[]> => (await producer.queue(type).getJobs(['prioritized', 'waiting'])).map((job) => job.id ?? '');

it('queues concurrent submissions with far fewer addBulk calls than requests', async () => {
  const addBulk = jest.spyOn(producer.queue('noop'), 'addBulk');
  const answers = await Promise.all(Array.from({ length: 40 }, () => send(app, 'POST', '/submit-task', { type: 'noop', payload: {} })));

  expect(answers.map((answer) => answer.statusCode)).toEqual(Array(40).fill(202));
  const ids = answers.map((answer) => answer.json<SubmitTaskResponse>().id).sort();
  expect(addBulk.mock.calls.flatMap(([jobs]) => jobs.map((job) => job.opts?.jobId)).sort()).toEqual(ids);
  expect(addBulk.mock.calls.length).toBeLessThan(10);
  expect((await queuedIds('noop')).sort()).toEqual(ids);
});

it("withdraws exactly the failed batch's tasks: their requests get 503 with Retry-After, the others stay accepted", async () => {
  // Every add to the report queue fails (WRONGTYPE): its batches fail, the sleep queue's do not.
  const broken = producer.queue('report').toKey('prioritized');
  await redis.set(broken, 'not a sorted set');
  try {
    const bodies = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? { type: 'report', payload: { windowMinutes: 5 } } : { type: 'sleep', payload: { ms: 1 } }));
    const answers = await Promise.all(bodies.map((body) => send(app, 'POST', '/submit-task', body)));

    const refused = answers.filter((_, i) => bodies[i]?.type === 'report');
    const accepted = answers.filter((_, i) => bodies[i]?.type === 'sleep');
    for (const answer of refused) {
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.headers['content-type']).toMatch(PROBLEM_JSON);
    }
    expect(accepted.map((answer) => answer.statusCode)).toEqual(Array(20).fill(202));
    expect(await storedIds('report')).toEqual([]);
    const acceptedIds = accepted.map((answer) => answer.json<SubmitTaskResponse>().id).sort();
    expect((await storedIds('sleep')).sort()).toEqual(acceptedIds);
    expect((await queuedIds('sleep')).sort()).toEqual(acceptedIds);
  } finally {
    await redis.del(broken);
  }
  expect((await send(app, 'POST', '/submit-task', { type: 'report', payload: {} })).statusCode).toBe(202);
});

