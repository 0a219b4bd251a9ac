import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        type varchar(100) NOT NULL,
        status varchar(20) NOT NULL,
        payload jsonb NOT NULL,
        result jsonb,
        last_error text,
        priority int,
        run_at timestamptz,
        max_attempts int NOT NULL,
        attempts_made int NOT NULL DEFAULT 0,
        attempt_base int NOT NULL DEFAULT 0,
        backoff jsonb NOT NULL,
        timeout_ms int NOT NULL,
        idempotency_key varchar(200),
        request_hash char(64),
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT tasks_status_check CHECK (status IN ('queued','delayed','active','retrying','completed','dead','cancelled'))
      )`);
    await queryRunner.query(`CREATE INDEX tasks_created_idx ON tasks (created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX tasks_status_created_idx ON tasks (status, created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX tasks_type_created_idx ON tasks (type, created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE UNIQUE INDEX tasks_idempotency_key_idx ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // The dead-letter queue: dead tasks by time of death, newest first.
    await queryRunner.query(`CREATE INDEX tasks_dead_idx ON tasks (finished_at DESC, id DESC) WHERE status = 'dead'`);
    await queryRunner.query(`
      CREATE TABLE task_attempts (
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        number int NOT NULL,
        worker_id varchar(200) NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        duration_ms int,
        outcome varchar(20) NOT NULL,
        error text,
        PRIMARY KEY (task_id, number),
        CONSTRAINT task_attempts_outcome_check CHECK (outcome IN ('running','completed','failed','timed_out','cancelled'))
      )`);
    await queryRunner.query(`CREATE INDEX task_attempts_started_idx ON task_attempts (started_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE task_attempts`);
    await queryRunner.query(`DROP TABLE tasks`);
  }
}
