import type { DataSource } from 'typeorm';

/**
 * Runs a statement and returns its rows. TypeORM's `DataSource.query` answers UPDATE and
 * DELETE with `[rows, count]` but SELECT and INSERT with `rows`; the structured result has
 * the rows in `records` for every kind of statement.
 */
export async function rowsOf<T>(dataSource: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return ((await runner.query(sql, params, true)) as { records: T[] }).records;
  } finally {
    await runner.release();
  }
}
