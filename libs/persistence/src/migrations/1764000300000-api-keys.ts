import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys (stored as hashes only) and the tenant that owns each task. */
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tasks_tenant_created_idx`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN tenant`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
