import type { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_INDEXES = [
  { name: 'tasks_tenant_created_idx', create: `CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_tenant_created_idx ON tasks (tenant, created_at DESC, id DESC)` },
  {
    name: 'tasks_tenant_idempotency_key_idx',
    create: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_tenant_idempotency_key_idx ON tasks (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL`,
  },
];

/**
 * Task lists per tenant, and idempotency keys per tenant (two tenants may use the same key
 * without meeting) in place of the global ones. Built CONCURRENTLY so a large table keeps
 * taking submissions and worker writes meanwhile; that cannot run inside a transaction.
 *
 * Idempotent, so a database whose ApiKeys1764000300000 still built these indexes itself ends
 * in the same schema. The global index goes only once the per-tenant one is valid: until
 * then it keeps keys unique (per tenant too, a fortiori).
 *
 * Reverting: run with `transaction: 'none'` (CONCURRENTLY cannot run in the transaction
 * TypeORM's undo opens otherwise).
 */
export class TenantIndexes1764000400000 implements MigrationInterface {
  name = 'TenantIndexes1764000400000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of TENANT_INDEXES) {
      await dropIfInvalid(queryRunner, index.name);
      await queryRunner.query(index.create);
    }
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_idempotency_key_idx`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Not CONCURRENTLY: writes to tasks wait for the build, but a build that fails leaves
    // nothing behind. It fails once two tenants share an idempotency key: the global index
    // cannot come back then until one of the two keys is changed or its task deleted.
    await queryRunner.query(`CREATE UNIQUE INDEX IF NOT EXISTS tasks_idempotency_key_idx ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    for (const index of [...TENANT_INDEXES].reverse()) {
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`);
    }
  }
}

/**
 * A CONCURRENTLY build that failed or was interrupted leaves an invalid index behind, which
 * IF NOT EXISTS would then take for done: drop it so that it is built again.
 */
async function dropIfInvalid(queryRunner: QueryRunner, name: string): Promise<void> {
  const rows = (await queryRunner.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (rows.length > 0) await queryRunner.query(`DROP INDEX CONCURRENTLY ${name}`);
}
