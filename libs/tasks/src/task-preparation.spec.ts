import { TaskStatus } from '@taskq/contracts';
import { bulkRequestHash, prepareTask, prepareTaskNow, requestHash } from './task-preparation';

const context = { tenant: 'default', idempotencyKey: null, now: new Date(Date.UTC(2026, 0, 1)) };

describe(prepareTask.name, () => {
  it("prepares a new task: the type's defaults, queued now, a job's whole budget ahead", async () => {
    const prepared = await prepareTask({ type: 'noop', payload: {} }, context);
    expect(prepared).toMatchObject({ ok: true, task: { type: 'noop', status: TaskStatus.Queued, runAt: null, attemptsMade: 0, attemptBase: 0, nextAttemptAt: null, requestHash: null } });
  });

  it('answers at once for a body the fast validators accept, with the same task', async () => {
    const now = prepareTaskNow({ type: 'noop', payload: {} }, context);
    const awaited = await prepareTask({ type: 'noop', payload: {} }, context);
    expect(now?.ok && { ...now.task, id: '' }).toEqual(awaited.ok && { ...awaited.task, id: '' });
  });

  it('names an unknown type', async () => {
    await expect(prepareTask({ type: 'fax', payload: {} }, context)).resolves.toMatchObject({ ok: false, unknownType: 'fax' });
  });

  it('stores the hash a replay must match: its own, or the whole request it came with', async () => {
    const request = { type: 'noop', payload: {} };
    await expect(prepareTask(request, { ...context, idempotencyKey: 'k' })).resolves.toMatchObject({ task: { requestHash: requestHash(request) } });
    await expect(prepareTask(request, { ...context, idempotencyKey: 'k:0', requestHash: 'whole' })).resolves.toMatchObject({ task: { requestHash: 'whole' } });
  });
});

describe(bulkRequestHash.name, () => {
  it('hashes the same tasks alike whatever the order of their fields or their own keys, and other tasks or another order differently', () => {
    const a = { type: 'noop', payload: { note: 'a' } };
    const b = { type: 'sleep', payload: { ms: 1 } };
    expect(bulkRequestHash([a, b])).toBe(bulkRequestHash([{ payload: { note: 'a' }, type: 'noop', idempotencyKey: 'ignored' }, b]));
    expect(bulkRequestHash([a, b])).not.toBe(bulkRequestHash([b, a]));
    expect(bulkRequestHash([a])).not.toBe(bulkRequestHash([a, b]));
  });
});
