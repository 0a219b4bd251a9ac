import type { MigrationInterface, QueryRunner } from 'typeorm';

const CHECK = 'task_attempts_outcome_check';

/**
 * Attempts stopped by a worker's shutdown deadline are recorded as `interrupted` (they cost no attempt).
 *
 * The new check is added NOT VALID, which holds the table's ACCESS EXCLUSIVE lock only for a
 * catalog change, then validated under a lock that lets writes through. Outside a
 * transaction so that the lock is released in between; re-running it after a crash between
 * the two statements ends in the same state.
 */
export class InterruptedAttempts1764000200000 implements MigrationInterface {
  name = 'InterruptedAttempts1764000200000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE task_attempts DROP CONSTRAINT IF EXISTS ${CHECK}, ADD CONSTRAINT ${CHECK} CHECK (outcome IN ('running','completed','failed','timed_out','cancelled','interrupted')) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE task_attempts VALIDATE CONSTRAINT ${CHECK}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The old check first (NOT VALID: it refuses new `interrupted` rows at once), then the
    // existing ones are rewritten, then it is validated.
    await queryRunner.query(
      `ALTER TABLE task_attempts DROP CONSTRAINT IF EXISTS ${CHECK}, ADD CONSTRAINT ${CHECK} CHECK (outcome IN ('running','completed','failed','timed_out','cancelled')) NOT VALID`,
    );
    await queryRunner.query(`UPDATE task_attempts SET outcome = 'failed' WHERE outcome = 'interrupted'`);
    await queryRunner.query(`ALTER TABLE task_attempts VALIDATE CONSTRAINT ${CHECK}`);
  }
}
