import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention clean-up selects finished tasks by status and time of finish. Without this
 * index each batch would scan the whole table. Built CONCURRENTLY so a large table keeps
 * taking writes meanwhile; that cannot run inside a transaction.
 */
export class RetentionIndex1764000100000 implements MigrationInterface {
  name = 'RetentionIndex1764000100000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A CONCURRENTLY build that was interrupted leaves an invalid index behind: rebuild it.
    await queryRunner.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE c.relname = 'tasks_finished_idx' AND NOT i.indisvalid) THEN
          DROP INDEX tasks_finished_idx;
        END IF;
      END $$`);
    await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_finished_idx ON tasks (status, finished_at) WHERE finished_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_finished_idx`);
  }
}
