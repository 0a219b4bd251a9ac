import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (stored as hashes only) and the tenant that owns each task and schedule. The
 * indexes on tasks.tenant (idempotency keys per tenant included) come in
 * TenantIndexes1764000400000, built CONCURRENTLY: here they would scan the whole table
 * while the ALTER TABLE's lock stops every submission and worker.
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
    // A constant default: PostgreSQL stores it in the catalog, no table rewrite.
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN tenant varchar(100) NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE schedules ADD COLUMN tenant varchar(100) NOT NULL DEFAULT 'default'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE schedules DROP COLUMN tenant`);
    await queryRunner.query(`ALTER TABLE tasks DROP COLUMN tenant`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
