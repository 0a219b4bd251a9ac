import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Completion callbacks. A task (or a schedule, for the tasks it creates) may carry a
 * `callback_url`. When such a task reaches a terminal state, a trigger records the delivery
 * it owes in `task_callbacks`, in the transaction that commits the state: every path that
 * finishes a task (the worker's batched outcomes and starts, cancel, the reconciler) owes it
 * without knowing, and a crash between the two cannot lose it. The monitor delivers them.
 */
export class Callbacks1764000700000 implements MigrationInterface {
  name = 'Callbacks1764000700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN IF NOT EXISTS callback_url text`);
    await queryRunner.query(`ALTER TABLE schedules ADD COLUMN IF NOT EXISTS callback_url text`);
    await queryRunner.query(`
      CREATE TABLE task_callbacks (
        id bigserial PRIMARY KEY,
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        tenant varchar(100) NOT NULL,
        event varchar(20) NOT NULL CHECK (event IN ('completed', 'dead', 'cancelled')),
        url text NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        last_status_code int,
        last_error text
      )`);
    await queryRunner.query(`CREATE INDEX task_callbacks_due_idx ON task_callbacks (next_attempt_at) WHERE status = 'pending'`);
    await queryRunner.query(`CREATE INDEX task_callbacks_task_idx ON task_callbacks (task_id, id)`);
    await queryRunner.query(`
      CREATE TABLE callback_deliveries (
        callback_id bigint NOT NULL REFERENCES task_callbacks (id) ON DELETE CASCADE,
        attempt int NOT NULL,
        at timestamptz NOT NULL,
        status_code int,
        error text,
        duration_ms int NOT NULL,
        PRIMARY KEY (callback_id, attempt)
      )`);
    await queryRunner.query(`
      CREATE TABLE signing_secrets (
        tenant varchar(100) PRIMARY KEY,
        secret text NOT NULL,
        previous_secret text,
        rotated_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE FUNCTION taskq_owe_callback() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO task_callbacks (task_id, tenant, event, url) VALUES (NEW.id, NEW.tenant, NEW.status, NEW.callback_url);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tasks_owe_callback AFTER UPDATE OF status ON tasks FOR EACH ROW
        WHEN (NEW.callback_url IS NOT NULL AND NEW.status IN ('completed', 'dead', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION taskq_owe_callback()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS tasks_owe_callback ON tasks`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS taskq_owe_callback()`);
    await queryRunner.query(`DROP TABLE IF EXISTS signing_secrets`);
    await queryRunner.query(`DROP TABLE IF EXISTS callback_deliveries`);
    await queryRunner.query(`DROP TABLE IF EXISTS task_callbacks`);
    await queryRunner.query(`ALTER TABLE schedules DROP COLUMN IF EXISTS callback_url`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN IF EXISTS callback_url`);
  }
}
