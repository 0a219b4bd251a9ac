import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (stored as hashes only), the tenant that owns each task and schedule, and
 * idempotency keys per tenant (two tenants may use the same key without meeting).
 */
export class ApiKeys1764000300000 implements MigrationInterface {
  name = 'ApiKeys1764000300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name varchar(100) NOT NULL,
        prefix varchar(32) NOT NULL UNIQUE,
        hash char(64) NOT NULL,
        scopes text[] NOT NULL,
        tenant varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT api_keys_scopes_check CHECK (scopes <@ ARRAY['tasks:write','tasks:read','admin']::text[] AND cardinality(scopes) > 0)
      )`);
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN tenant varchar(100) NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`CREATE INDEX tasks_tenant_created_idx ON tasks (tenant, created_at DESC, id DESC)`);
    await queryRunner.query(`DROP INDEX tasks_idempotency_key_idx`);
    await queryRunner.query(`CREATE UNIQUE INDEX tasks_tenant_idempotency_key_idx ON tasks (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE schedules ADD COLUMN tenant varchar(100) NOT NULL DEFAULT 'default'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE schedules DROP COLUMN tenant`);
    await queryRunner.query(`DROP INDEX tasks_tenant_idempotency_key_idx`);
    await queryRunner.query(`CREATE UNIQUE INDEX tasks_idempotency_key_idx ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`DROP INDEX tasks_tenant_created_idx`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN tenant`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
