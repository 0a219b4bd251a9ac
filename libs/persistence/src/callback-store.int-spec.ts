import type { DataSource } from 'typeorm';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { CallbackStore } from './callback-store';
import { openPreparedDataSource } from './database';

/** The outbox of completion callbacks: claims that several monitors share, leases that end, and the record of each try. */
jest.setTimeout(30_000);

const db = testDatabase('callback_store');
let dataSource: DataSource;
let sut: CallbackStore;

beforeAll(async () => {
  dataSource = await openPreparedDataSource({ url: db.url });
  sut = new CallbackStore(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

beforeEach(async () => {
  await queryDatabase(db.url, 'DELETE FROM tasks');
});

/** `count` tasks with a callback URL that then complete: the trigger makes them owe a delivery each. */
async function owe(count: number): Promise<string[]> {
  const rows = await queryDatabase<{ id: string }>(
    db.url,
    `INSERT INTO tasks (id, type, status, payload, max_attempts, backoff, timeout_ms, tenant, callback_url)
     SELECT gen_random_uuid(), 'noop', 'active', '{}', 1, '{}', 1000, 'acme', 'https://hooks.example.com/' || n FROM generate_series(1, $1) n
     RETURNING id`,
    [count],
  );
  await queryDatabase(db.url, `UPDATE tasks SET status = 'completed' WHERE id = ANY($1::uuid[])`, [rows.map((row) => row.id)]);
  return rows.map((row) => row.id);
}

describe(CallbackStore.name, () => {
  it('hands each due delivery to one claimer only, however many claim at once', async () => {
    await owe(30);
    const claims = await Promise.all(Array.from({ length: 4 }, () => sut.claimDue(10, 60_000)));
    const ids = claims.flat().map((claim) => claim.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(await sut.claimDue(10, 60_000)).toEqual([]);
    expect(await sut.pendingCount()).toBe(30);
  });

  it("lets a delivery be claimed again once its claimer's lease ends", async () => {
    const [taskId] = await owe(1);
    const [first] = await sut.claimDue(10, 300);
    expect(first).toMatchObject({ taskId, tenant: 'acme', event: 'completed', url: 'https://hooks.example.com/1', attempts: 0 });
    expect(await sut.claimDue(10, 300)).toEqual([]);
    await queryDatabase(db.url, `UPDATE task_callbacks SET locked_until = now() - interval '1 millisecond'`);
    expect((await sut.claimDue(10, 300)).map((claim) => claim.id)).toEqual([first?.id]);
  });

  it('records each try: a failure waits for its next time, a success delivers, and a late duplicate of a try changes nothing', async () => {
    const [taskId = ''] = await owe(1);
    const [claim] = await sut.claimDue(1, 60_000);
    const id = claim?.id ?? '';
    const retryAt = new Date(Date.now() + 60_000);
    await sut.recordAttempt({ id, attempt: 1, at: new Date(), statusCode: 503, error: 'answered 503: busy', durationMs: 12, delivered: false, next: retryAt });
    expect(await sut.latestFor(taskId)).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, lastError: 'answered 503: busy', nextAttemptAt: retryAt.toISOString() });
    // Not due before its time, though its lease was given back.
    expect(await sut.claimDue(1, 60_000)).toEqual([]);

    await queryDatabase(db.url, `UPDATE task_callbacks SET next_attempt_at = now()`);
    const [again] = await sut.claimDue(1, 60_000);
    expect(again).toMatchObject({ id, attempts: 1 });
    const at = new Date();
    await sut.recordAttempt({ id, attempt: 2, at, statusCode: 200, error: null, durationMs: 8, delivered: true, next: null });
    await sut.recordAttempt({ id, attempt: 2, at, statusCode: 500, error: 'answered 500', durationMs: 9, delivered: false, next: retryAt });

    expect(await sut.latestFor(taskId)).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null, nextAttemptAt: null, deliveredAt: at.toISOString() });
    expect((await sut.deliveriesOf(taskId)).map((d) => [d.attempt, d.statusCode])).toEqual([[1, 503], [2, 200]]);
    expect(await sut.pendingCount()).toBe(0);
  });

  it('gives a delivery up when no next try is left', async () => {
    const [taskId = ''] = await owe(1);
    const [claim] = await sut.claimDue(1, 60_000);
    await sut.recordAttempt({ id: claim?.id ?? '', attempt: 1, at: new Date(), statusCode: null, error: 'connection refused', durationMs: 3, delivered: false, next: null });
    expect(await sut.latestFor(taskId)).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: null, lastError: 'connection refused' });
    await queryDatabase(db.url, `UPDATE task_callbacks SET next_attempt_at = now() - interval '1 hour'`);
    expect(await sut.claimDue(1, 60_000)).toEqual([]);
  });
});
