import type { MigrationInterface, QueryRunner } from 'typeorm';

const FINISHED_INDEX = 'tasks_finished_idx';
const FINISHED_INDEX_BUILT = 'tasks_finished_idx_covering';
const FAILED_ATTEMPTS_INDEX = 'task_attempts_failed_idx';
/** Stats windows are at most a day long: older rows need nothing (an hour more for attempts that started before their window). */
const BACKFILL_HOURS = 25;

/**
 * What `GET /stats` reads, so that each of its statements is one index range of its window,
 * without a join (a join probes the other table once per row: a second and more per hour of
 * a busy history, see docs/stats-queries.md):
 * - tasks.last_attempt_ms, the run time of its latest finished attempt (for a completed task:
 *   the one that completed it), written with the attempt's outcome;
 * - task_attempts.type and .tenant, copied from the task when the attempt starts;
 * - tasks_finished_idx (status, finished_at) rebuilt to carry type, tenant and last_attempt_ms
 *   (one index replaced by a wider one: no write pays for another index), so completions,
 *   deaths and durations are index-only reads;
 * - task_attempts_failed_idx (finished_at), of failed attempts only, carrying type and tenant:
 *   a completed attempt (the common case) adds no entry to it.
 * The last day's failed attempts and completed tasks are filled in, so the figures are whole
 * from the start (but for what workers of the previous version record until they are replaced).
 *
 * New nullable columns without a default: no table rewrite. Indexes built CONCURRENTLY so a
 * large table keeps taking writes; the rebuilt index replaces the old one under its name
 * (the retention clean-up reads it by its key columns, which do not change). Outside a
 * transaction, and safe to run again after a crash at any point.
 *
 * Reverting: run with `transaction: 'none'` (see TenantIndexes1764000400000).
 */
export class TaskStats1764000800000 implements MigrationInterface {
  name = 'TaskStats1764000800000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN IF NOT EXISTS last_attempt_ms int`);
    await queryRunner.query(`ALTER TABLE task_attempts ADD COLUMN IF NOT EXISTS type varchar(100), ADD COLUMN IF NOT EXISTS tenant varchar(100)`);
    // An hour of history per statement: short statements, short row locks.
    for (let hoursAgo = BACKFILL_HOURS; hoursAgo > 0; hoursAgo--) {
      const slice = [`now() - interval '${hoursAgo} hours'`, `now() - interval '${hoursAgo - 1} hours'`];
      await queryRunner.query(
        `UPDATE task_attempts a SET type = t.type, tenant = t.tenant FROM tasks t
          WHERE a.started_at >= ${slice[0]} AND a.started_at < ${slice[1]} AND a.outcome IN ('failed', 'timed_out', 'lost') AND a.type IS NULL AND t.id = a.task_id`,
      );
      await queryRunner.query(
        `UPDATE tasks t SET last_attempt_ms = a.duration_ms FROM task_attempts a
          WHERE t.status = 'completed' AND t.finished_at >= ${slice[0]} AND t.finished_at < ${slice[1]} AND t.last_attempt_ms IS NULL
            AND a.task_id = t.id AND a.number = t.attempts_made`,
      );
    }

    await dropIfInvalid(queryRunner, FAILED_ATTEMPTS_INDEX);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${FAILED_ATTEMPTS_INDEX} ON task_attempts (finished_at) INCLUDE (type, tenant) WHERE outcome IN ('failed', 'timed_out', 'lost')`,
    );

    if ((await indexDefinition(queryRunner, FINISHED_INDEX))?.includes('INCLUDE')) return;
    await dropIfInvalid(queryRunner, FINISHED_INDEX_BUILT);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${FINISHED_INDEX_BUILT} ON tasks (status, finished_at) INCLUDE (type, tenant, last_attempt_ms) WHERE finished_at IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${FINISHED_INDEX}`);
    await queryRunner.query(`ALTER INDEX ${FINISHED_INDEX_BUILT} RENAME TO ${FINISHED_INDEX}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if ((await indexDefinition(queryRunner, FINISHED_INDEX))?.includes('INCLUDE')) {
      await dropIfInvalid(queryRunner, FINISHED_INDEX_BUILT);
      await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${FINISHED_INDEX_BUILT} ON tasks (status, finished_at) WHERE finished_at IS NOT NULL`);
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${FINISHED_INDEX}`);
      await queryRunner.query(`ALTER INDEX ${FINISHED_INDEX_BUILT} RENAME TO ${FINISHED_INDEX}`);
    }
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${FAILED_ATTEMPTS_INDEX}`);
    await queryRunner.query(`ALTER TABLE task_attempts DROP COLUMN IF EXISTS type, DROP COLUMN IF EXISTS tenant`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN IF EXISTS last_attempt_ms`);
  }
}

async function indexDefinition(queryRunner: QueryRunner, name: string): Promise<string | null> {
  const rows = (await queryRunner.query(`SELECT pg_get_indexdef(to_regclass($1)) AS definition`, [name])) as Array<{ definition: string | null }>;
  return rows[0]?.definition ?? null;
}

/** A CONCURRENTLY build that failed or was interrupted leaves an invalid index behind, which IF NOT EXISTS would take for done. */
async function dropIfInvalid(queryRunner: QueryRunner, name: string): Promise<void> {
  const rows = (await queryRunner.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (rows.length > 0) await queryRunner.query(`DROP INDEX CONCURRENTLY ${name}`);
}
