import type { MigrationInterface, QueryRunner } from 'typeorm';

const CHECK = 'task_attempts_outcome_check';
const RUNNING_INDEX = 'task_attempts_running_idx';

/**
 * Runs whose worker stopped without an outcome are recorded as `lost`; the reconciler looks
 * for `running` rows left behind, through a small partial index.
 *
 * Like InterruptedAttempts1764000200000: the check is replaced NOT VALID and then validated,
 * and the index is built CONCURRENTLY, so neither blocks writes for long; outside a
 * transaction, and safe to re-run after a crash in between.
 */
export class LostAttempts1764000500000 implements MigrationInterface {
  name = 'LostAttempts1764000500000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE task_attempts DROP CONSTRAINT IF EXISTS ${CHECK}, ADD CONSTRAINT ${CHECK} CHECK (outcome IN ('running','completed','failed','timed_out','cancelled','interrupted','lost')) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE task_attempts VALIDATE CONSTRAINT ${CHECK}`);
    // A CONCURRENTLY build that was interrupted leaves an invalid index behind: rebuild it.
    await queryRunner.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE c.relname = '${RUNNING_INDEX}' AND NOT i.indisvalid) THEN
          DROP INDEX ${RUNNING_INDEX};
        END IF;
      END $$`);
    await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${RUNNING_INDEX} ON task_attempts (started_at) WHERE outcome = 'running'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${RUNNING_INDEX}`);
    await queryRunner.query(
      `ALTER TABLE task_attempts DROP CONSTRAINT IF EXISTS ${CHECK}, ADD CONSTRAINT ${CHECK} CHECK (outcome IN ('running','completed','failed','timed_out','cancelled','interrupted')) NOT VALID`,
    );
    await queryRunner.query(`UPDATE task_attempts SET outcome = 'failed' WHERE outcome = 'lost'`);
    await queryRunner.query(`ALTER TABLE task_attempts VALIDATE CONSTRAINT ${CHECK}`);
  }
}
