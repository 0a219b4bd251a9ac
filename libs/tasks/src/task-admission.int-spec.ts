import type { RedisConnection } from '@taskq/queue';
import type { DataSource } from 'typeorm';
import { TaskAdmissions, ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';
import { QueueUnavailableError, TaskProducer, connectRedis } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix } from '@taskq/testing';
import { TaskAdmission } from './task-admission';
import { prepareTask, type PreparedTask } from './task-preparation';

async function prepared(note: string, idempotencyKey: string | null = null): Promise<PreparedTask> {
  const preparation = await prepareTask({ type: 'noop', payload: { note } }, { tenant: 'default', idempotencyKey, now: new Date() });
  if (!preparation.ok) throw new Error('not prepared');
  return preparation.task;
}

describe(TaskAdmission.name, () => {
  const db = testDatabase('task_admission');
  const prefix = uniquePrefix('task-admission');
  let dataSource: DataSource;
  let redis: RedisConnection;
  let down: RedisConnection;
  let producer: TaskProducer;
  let sut: TaskAdmission;
  /** Admission through a producer whose Redis connection is gone. */
  let refused: TaskAdmission;

  const rows = async (ids: string[]): Promise<string[]> =>
    (await queryDatabase<{ id: string }>(db.url, 'SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [ids])).map((row) => row.id).sort();
  const jobs = async (ids: string[]): Promise<string[]> =>
    (await Promise.all(ids.map((id) => producer.queue('noop').getJob(id)))).flatMap((job) => (job?.id ? [job.id] : [])).sort();

  beforeAll(async () => {
    await ensureDatabase({ url: db.url });
    dataSource = await openDataSource({ url: db.url });
    await runMigrations(dataSource);
    const admissions = new TaskAdmissions(dataSource);
    redis = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    producer = new TaskProducer(redis, prefix);
    sut = new TaskAdmission(admissions, producer);
    down = await connectRedis(TEST_REDIS_URL, 'producer', 5_000);
    down.disconnect();
    refused = new TaskAdmission(admissions, new TaskProducer(down, prefix));
  });

  afterAll(async () => {
    await producer?.close();
    redis?.disconnect();
    await dataSource?.destroy();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('stores a task, then queues its job under the task id', async () => {
    const task = await prepared('one');
    await expect(sut.admitOne(task)).resolves.toBe(true);
    expect(await rows([task.id])).toEqual([task.id]);
    expect(await jobs([task.id])).toEqual([task.id]);
  });

  it('admits nothing for an idempotency key already taken', async () => {
    const first = await prepared('first', 'admission-key');
    const second = await prepared('second', 'admission-key');
    await expect(sut.admitOne(first)).resolves.toBe(true);
    await expect(sut.admitOne(second)).resolves.toBe(false);
    await expect(sut.admit([await prepared('third', 'admission-key'), await prepared('fourth')])).resolves.toEqual([false, true]);
    expect(await rows([second.id])).toEqual([]);
    expect(await jobs([second.id])).toEqual([]);
  });

  it('stores many tasks in one go and queues all their jobs', async () => {
    const tasks = await Promise.all(['a', 'b', 'c'].map((note) => prepared(note)));
    await expect(sut.admit(tasks)).resolves.toEqual([true, true, true]);
    const ids = tasks.map((task) => task.id).sort();
    expect(await rows(ids)).toEqual(ids);
    expect(await jobs(ids)).toEqual(ids);
  });

  it('withdraws the tasks whose jobs Redis refused, and says so', async () => {
    const one = await prepared('refused one');
    const many = await Promise.all(['x', 'y'].map((note) => prepared(`refused ${note}`)));
    await expect(refused.admitOne(one)).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(refused.admit(many)).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(await rows([one, ...many].map((task) => task.id))).toEqual([]);
  });
});
