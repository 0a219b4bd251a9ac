import { openPreparedDataSource } from './database';
import { MIGRATIONS } from './migrations';
import { queryDatabase, testDatabase } from '@taskq/testing';

jest.setTimeout(30_000);

describe('migrations', () => {
  const db = testDatabase('migrations');

  afterAll(() => db.drop());

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
});
