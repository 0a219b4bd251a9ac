import type { RedisConnection } from '@taskq/queue';
import type { DataSource } from 'typeorm';
import { TaskStatus } from '@taskq/contracts';
import { TaskAdmissions, TaskLifecycleStore, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { DeadLetterMirror, QueueUnavailableError, TaskProducer, connectRedis } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix } from '@taskq/testing';
import { prepareTask } from './task-preparation';
import { TaskRequeue } from './task-requeue';

describe(TaskRequeue.name, () => {
  const db = testDatabase('task_requeue');
  const prefix = uniquePrefix('task-requeue');
  let dataSource: DataSource;
  let redis: RedisConnection;
  let down: RedisConnection;
  let producer: TaskProducer;
  let deadLetters: DeadLetterMirror;
  let admissions: TaskAdmissions;
  let sut: TaskRequeue;
  /** Requeue through a producer whose Redis connection is gone. */
  let refused: TaskRequeue;

  /** A task that died after `attempts` attempts, its failed job still in Redis. */
  async function deadTask(attempts: number): Promise<string> {
    const preparation = await prepareTask({ type: 'noop', payload: {}, maxAttempts: 2 }, { tenant: 'default', idempotencyKey: null, now: new Date() });
    if (!preparation.ok) throw new Error('not prepared');
    const id = preparation.task.id;
    await admissions.createTask(preparation.task);
    await queryDatabase(db.url, `UPDATE tasks SET status = 'dead', attempts_made = $2, finished_at = now() WHERE id = $1`, [id, attempts]);
    await producer.enqueue({ data: { taskId: id, type: 'noop' }, maxAttempts: 2, priority: null, delayMs: 60_000 });
    return id;
  }

  const row = async (id: string) =>
    (await queryDatabase<{ status: string; attempt_base: number; finished: boolean }>(db.url, 'SELECT status, attempt_base, finished_at IS NOT NULL AS finished FROM tasks WHERE id = $1', [id]))[0];

  beforeAll(async () => {
    await ensureDatabase({ url: db.url });
    dataSource = await openDataSource({ url: db.url });
    await runMigrations(dataSource);
    admissions = new TaskAdmissions(dataSource);
    const lifecycle = new TaskLifecycleStore(dataSource);
    redis = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    producer = new TaskProducer(redis, prefix);
    deadLetters = new DeadLetterMirror(redis, prefix);
    sut = new TaskRequeue(lifecycle, producer, deadLetters);
    down = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    down.disconnect();
    refused = new TaskRequeue(lifecycle, new TaskProducer(down, prefix), deadLetters);
  });

  afterAll(async () => {
    await producer?.close();
    await deadLetters?.close();
    redis?.disconnect();
    await dataSource?.destroy();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('puts a dead task back to queued with a fresh budget and replaces its old job with one that runs now', async () => {
    const id = await deadTask(2);

    const outcome = await sut.requeue({ ids: [id], statuses: [TaskStatus.Dead] }, 1);

    expect(outcome).toEqual({ kind: 'requeued', tasks: [expect.objectContaining({ id, type: 'noop', status: 'queued', attemptsMade: 2, attemptBase: 2, maxAttempts: 2 })] });
    expect(await row(id)).toEqual({ status: 'queued', attempt_base: 2, finished: false });
    const job = await producer.queue('noop').getJob(id);
    expect(job?.opts).toMatchObject({ attempts: 2, delay: 0 });
  });

  it('selects nothing when no task matches', async () => {
    await expect(sut.requeue({ ids: [await deadTask(1)], statuses: [TaskStatus.Cancelled] }, 1)).resolves.toEqual({ kind: 'requeued', tasks: [] });
  });

  it('gives the tasks their previous status back when Redis refuses their jobs', async () => {
    const id = await deadTask(2);
    await expect(refused.requeue({ ids: [id], statuses: [TaskStatus.Dead] }, 1)).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(await row(id)).toMatchObject({ status: 'dead', finished: true });
  });
});
