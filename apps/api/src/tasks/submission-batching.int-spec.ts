import type { SubmitTaskResponse } from '@taskq/contracts';
import { TaskProducer } from '@taskq/queue';
import { queryDatabase } from '@taskq/testing';
import { PROBLEM_JSON, send } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

/**
 * Concurrent submissions share their Redis round trips: each group-committed batch's jobs go
 * out as one addBulk per queue. A batch whose addBulk fails is withdrawn — exactly its tasks,
 * whose requests get 503 with Retry-After — while the other batches' tasks stay accepted.
 */
const api = useApiHarness({ label: 'api_submission_batching' });
/** The API's own producer, whose calls the tests watch. */
let producer: TaskProducer;

beforeAll(() => {
  producer = api.app.get(TaskProducer);
});

afterEach(() => jest.restoreAllMocks());

const storedIds = async (type: string): Promise<string[]> => (await queryDatabase<{ id: string }>(api.db.url, 'SELECT id FROM tasks WHERE type = $1', [type])).map((row) => row.id);
const queuedIds = async (type: 'noop' | 'sleep' | 'report'): Promise<string[]> => (await producer.queue(type).getJobs(['prioritized', 'waiting'])).map((job) => job.id ?? '');

it('queues concurrent submissions with far fewer addBulk calls than requests', async () => {
  const addBulk = jest.spyOn(producer.queue('noop'), 'addBulk');
  const answers = await Promise.all(Array.from({ length: 40 }, () => send(api.app, 'POST', '/submit-task', { type: 'noop', payload: {} })));

  expect(answers.map((answer) => answer.statusCode)).toEqual(Array(40).fill(202));
  const ids = answers.map((answer) => answer.json<SubmitTaskResponse>().id).sort();
  expect(addBulk.mock.calls.flatMap(([jobs]) => jobs.map((job) => job.opts?.jobId)).sort()).toEqual(ids);
  expect(addBulk.mock.calls.length).toBeLessThan(10);
  expect((await queuedIds('noop')).sort()).toEqual(ids);
});

it("withdraws exactly the failed batch's tasks: their requests get 503 with Retry-After, the others stay accepted", async () => {
  // Every add to the report queue fails (WRONGTYPE): its batches fail, the sleep queue's do not.
  const broken = producer.queue('report').toKey('prioritized');
  await api.redis.set(broken, 'not a sorted set');
  try {
    const bodies = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? { type: 'report', payload: { windowMinutes: 5 } } : { type: 'sleep', payload: { ms: 1 } }));
    const answers = await Promise.all(bodies.map((body) => send(api.app, 'POST', '/submit-task', body)));

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
    await api.redis.del(broken);
  }
  expect((await send(api.app, 'POST', '/submit-task', { type: 'report', payload: {} })).statusCode).toBe(202);
});

