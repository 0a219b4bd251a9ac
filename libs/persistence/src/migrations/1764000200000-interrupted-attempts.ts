import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Attempts stopped by a worker's shutdown deadline are recorded as `interrupted` (they cost no attempt). */
export class InterruptedAttempts1764000200000 implements MigrationInterface {
  name = 'InterruptedAttempts1764000200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE task_attempts DROP CONSTRAINT task_attempts_outcome_check`);
    await queryRunner.query(
      `ALTER TABLE task_attempts ADD CONSTRAINT task_attempts_outcome_check CHECK (outcome IN ('running','completed','failed','timed_out','cancelled','interrupted'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE task_attempts SET outcome = 'failed' WHERE outcome = 'interrupted'`);
    await queryRunner.query(`ALTER TABLE task_attempts DROP CONSTRAINT task_attempts_outcome_check`);
    await queryRunner.query(
      `ALTER TABLE task_attempts ADD CONSTRAINT task_attempts_outcome_check CHECK (outcome IN ('running','completed','failed','timed_out','cancelled'))`,
    );
  }
}
