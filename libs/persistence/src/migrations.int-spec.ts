import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { dataSourceOptions, ensureDatabase, openPreparedDataSource, runMigrations } from './database';
import { MIGRATIONS } from './migrations';
import { ApiKeys1764000300000 } from './migrations/1764000300000-api-keys';
import { TaskStats1764000800000 } from './migrations/1764000800000-task-stats';
import { queryDatabase, testDatabase, type TestDatabase } from '@taskq/testing';

jest.setTimeout(30_000);

interface IndexRow {
  name: string;
  definition: string;
  valid: boolean;
}

const tasksIndexes = (url: string): Promise<IndexRow[]> =>
  queryDatabase<IndexRow>(
    url,
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'tasks'::regclass ORDER BY c.relname`,
  );

const checks = (url: string): Promise<unknown[]> =>
  queryDatabase(url, `SELECT conname, pg_get_constraintdef(oid) AS definition, convalidated FROM pg_constraint WHERE contype = 'c' ORDER BY conname`);

/** ApiKeys1764000300000 as it first landed: it built the tenant indexes itself, in its transaction. */
class LegacyApiKeys1764000300000 implements MigrationInterface {
  name = 'ApiKeys1764000300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await new ApiKeys1764000300000().up(queryRunner);
    await queryRunner.query(`CREATE INDEX tasks_tenant_created_idx ON tasks (tenant, created_at DESC, id DESC)`);
    await queryRunner.query(`DROP INDEX tasks_idempotency_key_idx`);
    await queryRunner.query(`CREATE UNIQUE INDEX tasks_tenant_idempotency_key_idx ON tasks (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL`);
  }

  async down(): Promise<void> {
    throw new Error('not used');
  }
}

/** Applies `migrations` only, as an earlier build would have. */
async function migrateWith(db: TestDatabase, migrations: Array<new () => MigrationInterface>): Promise<void> {
  await ensureDatabase({ url: db.url });
  const dataSource = await new DataSource({ ...dataSourceOptions({ url: db.url }), migrations }).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

async function migrateToCurrent(db: TestDatabase): Promise<string[]> {
  let applied: string[] = [];
  const dataSource = await openPreparedDataSource({ url: db.url }, (names) => (applied = names));
  await dataSource.destroy();
  return applied;
}

describe('migrations', () => {
  const db = testDatabase('migrations');
  const legacy = testDatabase('migrations_legacy');
  const interrupted = testDatabase('migrations_interrupted');

  afterAll(() => Promise.all([db.drop(), legacy.drop(), interrupted.drop()]));

  it('are applied once when several apps prepare a new database at the same time, the concurrent index build included', async () => {
    // The API and the monitor (and their replicas) start together: all but one wait for the migration lock
    // while the holder builds an index CONCURRENTLY, which waits for every open snapshot.
    const sources = await Promise.all([1, 2, 3].map(() => openPreparedDataSource({ url: db.url })));
    await Promise.all(sources.map((source) => source.destroy()));

    const applied = await queryDatabase<{ name: string }>(db.url, 'SELECT name FROM migrations ORDER BY id');
    expect(applied.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => new migration().name));
    const [index] = await queryDatabase<{ valid: boolean }>(
      db.url,
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'tasks_finished_idx'`,
    );
    expect(index).toEqual({ valid: true });
  });

  it('leave idempotency keys unique per tenant only, with valid indexes', async () => {
    const indexes = await tasksIndexes(db.url);
    expect(indexes.every((index) => index.valid)).toBe(true);
    expect(indexes.map((index) => index.name)).not.toContain('tasks_idempotency_key_idx');
    expect(indexes.find((index) => index.name === 'tasks_tenant_idempotency_key_idx')?.definition).toMatch(
      /^CREATE UNIQUE INDEX .* \(tenant, idempotency_key\) WHERE \(idempotency_key IS NOT NULL\)$/,
    );
    expect(indexes.find((index) => index.name === 'tasks_tenant_created_idx')?.definition).toMatch(/\(tenant, created_at DESC, id DESC\)$/);
    const [outcomeCheck] = await queryDatabase<{ valid: boolean }>(
      db.url,
      `SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'task_attempts_outcome_check'`,
    );
    expect(outcomeCheck).toEqual({ valid: true });
  });

  it('bring a database that ran the first ApiKeys1764000300000 to the same schema', async () => {
    await migrateWith(legacy, [...MIGRATIONS.slice(0, 4), LegacyApiKeys1764000300000]);

    await expect(migrateToCurrent(legacy)).resolves.toEqual(MIGRATIONS.slice(5).map((migration) => new migration().name));

    expect(await tasksIndexes(legacy.url)).toEqual(await tasksIndexes(db.url));
    expect(await checks(legacy.url)).toEqual(await checks(db.url));
  });

  it('rebuild a tenant index that an interrupted concurrent build left invalid', async () => {
    await migrateWith(interrupted, MIGRATIONS.slice(0, 5));
    // A unique build that fails (two tasks of one type) leaves an invalid index under that name.
    await queryDatabase(
      interrupted.url,
      `INSERT INTO tasks (id, type, status, payload, max_attempts, backoff, timeout_ms)
       SELECT gen_random_uuid(), 'noop', 'queued', '{}', 1, '{}', 1000 FROM generate_series(1, 2)`,
    );
    await expect(
      queryDatabase(interrupted.url, `CREATE UNIQUE INDEX CONCURRENTLY tasks_tenant_idempotency_key_idx ON tasks (type)`),
    ).rejects.toThrow(/could not create unique index/);
    expect((await tasksIndexes(interrupted.url)).find((index) => index.name === 'tasks_tenant_idempotency_key_idx')?.valid).toBe(false);

    await migrateToCurrent(interrupted);

    expect(await tasksIndexes(interrupted.url)).toEqual(await tasksIndexes(db.url));
  });
});

describe(TaskStats1764000800000.name, () => {
  const db = testDatabase('migrations_task_stats');
  afterAll(() => db.drop());

  interface AttemptRow {
    task: string;
    number: number;
    type: string | null;
    tenant: string | null;
  }

  it("fills in the last day's failed attempts and completed tasks, and replaces tasks_finished_idx with a covering index; running it again changes nothing", async () => {
    await migrateWith(db, MIGRATIONS.slice(0, MIGRATIONS.indexOf(TaskStats1764000800000)));
    // Two completed tasks, each after a failed attempt: two hours ago, and 30 hours ago (older than any stats window).
    await queryDatabase(
      db.url,
      `INSERT INTO tasks (id, type, status, tenant, payload, max_attempts, attempts_made, backoff, timeout_ms, finished_at)
       VALUES ('00000000-0000-4000-8000-000000000001', 'email', 'completed', 'acme', '{}', 3, 2, '{}', 1000, now() - interval '2 hours'),
              ('00000000-0000-4000-8000-000000000002', 'email', 'completed', 'acme', '{}', 3, 2, '{}', 1000, now() - interval '30 hours')`,
    );
    await queryDatabase(
      db.url,
      `INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome)
       VALUES ('00000000-0000-4000-8000-000000000001', 1, 'w', now() - interval '2 hours 1 minute', now() - interval '2 hours 1 minute', 40, 'failed'),
              ('00000000-0000-4000-8000-000000000001', 2, 'w', now() - interval '2 hours 1 second', now() - interval '2 hours', 250, 'completed'),
              ('00000000-0000-4000-8000-000000000002', 1, 'w', now() - interval '30 hours 1 minute', now() - interval '30 hours 1 minute', 40, 'failed'),
              ('00000000-0000-4000-8000-000000000002', 2, 'w', now() - interval '30 hours 1 second', now() - interval '30 hours', 400, 'completed')`,
    );

    const dataSource = await openPreparedDataSource({ url: db.url });
    try {
      const attempts = (): Promise<AttemptRow[]> =>
        queryDatabase<AttemptRow>(db.url, `SELECT right(task_id::text, 1) AS task, number, type, tenant FROM task_attempts ORDER BY task_id, number`);
      expect(await attempts()).toEqual([
        { task: '1', number: 1, type: 'email', tenant: 'acme' },
        { task: '1', number: 2, type: null, tenant: null },
        { task: '2', number: 1, type: null, tenant: null },
        { task: '2', number: 2, type: null, tenant: null },
      ]);
      expect(await queryDatabase(db.url, `SELECT right(id::text, 1) AS task, last_attempt_ms FROM tasks ORDER BY id`)).toEqual([
        { task: '1', last_attempt_ms: 250 },
        { task: '2', last_attempt_ms: null },
      ]);
      const indexes = await tasksIndexes(db.url);
      expect(indexes.find((index) => index.name === 'tasks_finished_idx')).toEqual({
        name: 'tasks_finished_idx',
        definition: expect.stringMatching(/\(status, finished_at\) INCLUDE \(type, tenant, last_attempt_ms\) WHERE \(finished_at IS NOT NULL\)$/),
        valid: true,
      });
      expect(indexes.map((index) => index.name)).not.toContain('tasks_finished_idx_covering');

      const runner = dataSource.createQueryRunner();
      try {
        await new TaskStats1764000800000().up(runner);
      } finally {
        await runner.release();
      }
      expect(await tasksIndexes(db.url)).toEqual(indexes);
      expect((await attempts())[0]).toEqual({ task: '1', number: 1, type: 'email', tenant: 'acme' });
    } finally {
      await dataSource.destroy();
    }
  });
});
