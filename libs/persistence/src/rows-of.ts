import type { PoolClient } from 'pg';
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

/**
 * {@link rowsOf} for the hot statements (an attempt's start and outcome, a submission's insert):
 * as a named prepared statement, each pooled connection plans it once instead of every time,
 * which for these multi-part statements costs about as much as running them. `name` must
 * stand for exactly one text.
 */
export async function preparedRowsOf<T>(dataSource: DataSource, name: string, sql: string, params: unknown[]): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query({ name, text: sql, values: params })).rows as T[];
  } finally {
    await runner.release();
  }
}
