import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Recurring schedules, and which schedule created a task. */
export class Schedules1764000000000 implements MigrationInterface {
  name = 'Schedules1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE schedules (
        name varchar(100) PRIMARY KEY,
        cron varchar(200) NOT NULL,
        tz varchar(100),
        type varchar(100) NOT NULL,
        payload jsonb NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_run_at timestamptz,
        CONSTRAINT schedules_name_check CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$')
      )`);
    // No foreign key: deleting a schedule keeps the history of the tasks it created.
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN schedule_name varchar(100)`);
    // Not CONCURRENTLY, which cannot run in this migration's transaction: the build scans
    // tasks while the ALTER TABLE's lock is held. Partial, so submitted tasks cost it nothing.
    await queryRunner.query(
      `CREATE INDEX tasks_schedule_created_idx ON tasks (schedule_name, created_at DESC, id DESC) WHERE schedule_name IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tasks_schedule_created_idx`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN schedule_name`);
    await queryRunner.query(`DROP TABLE schedules`);
  }
}
