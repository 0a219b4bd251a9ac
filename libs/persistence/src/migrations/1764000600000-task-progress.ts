import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A task's latest reported progress and when it was reported. Nullable columns without a default: no table rewrite. */
export class TaskProgress1764000600000 implements MigrationInterface {
  name = 'TaskProgress1764000600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN IF NOT EXISTS progress jsonb, ADD COLUMN IF NOT EXISTS progress_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN IF EXISTS progress, DROP COLUMN IF EXISTS progress_at`);
  }
}
