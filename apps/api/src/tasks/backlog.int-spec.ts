import { parseBacklogLimits } from '@taskq/config';
import { waitFor } from '@taskq/testing';
import { BacklogGate } from './backlog-gate';
import { PROBLEM_JSON, countTasks, send } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

/** MAX_BACKLOG: a full queue turns submissions of its type away with 503 and Retry-After. */
// No worker runs: every accepted job stays waiting. noop may hold 3, sleep has no limit.
const api = useApiHarness({ label: 'api_backlog', env: { MAX_BACKLOG: '3,sleep=0' } });

describe(BacklogGate.name, () => {
  it('answers 503 with Retry-After once the queue holds MAX_BACKLOG waiting jobs, storing nothing', async () => {
    for (let i = 0; i < 3; i++) expect((await send(api.app, 'POST', '/submit-task', { type: 'noop', payload: {} })).statusCode).toBe(202);
    const stored = await countTasks(api.db.url);

    // The backlog is read at most once a second: the fourth may still pass on a stale reading.
    const refused = await waitFor(
      async () => {
        const response = await send(api.app, 'POST', '/submit-task', { type: 'noop', payload: {} });
        return response.statusCode === 503 ? response : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, description: 'a submission over the backlog is refused' },
    );
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(refused.json()).toMatchObject({ type: '/problems/backlog-full', status: 503, detail: expect.stringMatching(/noop queue holds \d+ waiting tasks \(limit 3\)/) });
    const waiting = await api.producer.queue('noop').getJobCounts('wait', 'prioritized', 'delayed');
    expect(await countTasks(api.db.url)).toBe(stored + (Object.values(waiting).reduce((a, b) => a + b, 0) - 3));

    const bulk = await send(api.app, 'POST', '/tasks/bulk', { tasks: [{ type: 'sleep', payload: { ms: 1 } }, { type: 'noop', payload: {} }] });
    expect(bulk.statusCode).toBe(503);
    expect(bulk.headers['retry-after']).toBe('5');
  });

  it('keeps accepting other types, and the full type again once its queue drains', async () => {
    expect((await send(api.app, 'POST', '/submit-task', { type: 'sleep', payload: { ms: 1 } })).statusCode).toBe(202);
    await api.producer.queue('noop').drain(true);
    await waitFor(async () => (await send(api.app, 'POST', '/submit-task', { type: 'noop', payload: {} })).statusCode === 202, {
      timeoutMs: 5_000,
      intervalMs: 200,
      description: 'noop accepted again',
    });
  });

  it('still answers a replay of an accepted idempotency key with 200 while the queue is full', async () => {
    await api.producer.queue('noop').drain(true);
    const body = { type: 'noop', payload: {} };
    const headers = { 'idempotency-key': `backlog-replay-${api.prefix}` };
    const accepted = await waitFor(
      async () => {
        const response = await send(api.app, 'POST', '/submit-task', body, headers);
        return response.statusCode === 202 ? response : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, description: 'the keyed submission accepted' },
    );
    await waitFor(async () => (await send(api.app, 'POST', '/submit-task', body)).statusCode === 503, {
      timeoutMs: 5_000,
      intervalMs: 200,
      description: 'the queue full',
    });

    const replay = await send(api.app, 'POST', '/submit-task', body, headers);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(accepted.json());
    expect((await send(api.app, 'POST', '/submit-task', body)).statusCode).toBe(503);
  });
});

describe(parseBacklogLimits.name, () => {
  it('reads a limit for every type with per-type overrides', () => {
    const limits = parseBacklogLimits('100,email=5,webhook=0');
    expect([limits.get('email'), limits.get('webhook'), limits.get('noop')]).toEqual([5, 0, 100]);
  });

  it('refuses unknown types', () => {
    expect(() => parseBacklogLimits('100,fax=5')).toThrow(/unknown task type: fax/);
  });
});
