import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { rowsOf } from './rows-of';

/** A console session as the API needs it on each request. */
export interface ConsoleSession {
  /** The API key it was opened with (`bootstrap` for API_KEY). */
  keyPrefix: string;
  /** Sent back in `X-CSRF-Token` by every request of the session that changes something. */
  csrfToken: string;
  expiresAt: Date;
}

/** A new session: `token` goes into the cookie and is stored only as its hash. */
export interface OpenedConsoleSession extends ConsoleSession {
  token: string;
}

const hashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Console sessions, server-side: opened at sign-in, read on each request, deleted at sign-out or expiry. */
export class ConsoleSessionStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Opens a session for the key, and drops the expired ones (any key's) on the way. */
  async open(keyPrefix: string, ttlMs: number): Promise<OpenedConsoleSession> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + ttlMs);
    await rowsOf(
      this.dataSource,
      `WITH expired AS (DELETE FROM console_sessions WHERE expires_at < now())
       INSERT INTO console_sessions (token_hash, key_prefix, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
      [hashOf(token), keyPrefix, csrfToken, expiresAt],
    );
    return { token, keyPrefix, csrfToken, expiresAt };
  }

  /** The session of a cookie's token, or null when there is none or it expired. */
  async find(token: string): Promise<ConsoleSession | null> {
    const [row] = await rowsOf<ConsoleSession>(
      this.dataSource,
      `SELECT key_prefix AS "keyPrefix", csrf_token AS "csrfToken", expires_at AS "expiresAt"
         FROM console_sessions WHERE token_hash = $1 AND expires_at > now()`,
      [hashOf(token)],
    );
    return row ?? null;
  }

  /** Ends a session (sign-out); false when there was none. */
  async close(token: string): Promise<boolean> {
    const rows = await rowsOf<{ found: boolean }>(this.dataSource, `DELETE FROM console_sessions WHERE token_hash = $1 RETURNING true AS found`, [hashOf(token)]);
    return rows.length > 0;
  }

  /** Ends every session of a key (it was revoked). */
  async closeAllOf(keyPrefix: string): Promise<void> {
    await rowsOf(this.dataSource, `DELETE FROM console_sessions WHERE key_prefix = $1`, [keyPrefix]);
  }
}
