import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Console sign-ins: a session stands for the API key it was opened with (its prefix, or
 * `bootstrap`), so revoking the key ends its sessions. Only the token's SHA-256 is kept.
 */
export class ConsoleSessions1764000900000 implements MigrationInterface {
  name = 'ConsoleSessions1764000900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS console_sessions (
        token_hash text PRIMARY KEY,
        key_prefix text NOT NULL,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS console_sessions_expires_idx ON console_sessions (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS console_sessions`);
  }
}
