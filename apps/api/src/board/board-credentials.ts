import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiConfig } from '@taskq/config';

/** admin: full control of the queues; viewer: read-only. */
export type BoardRole = 'admin' | 'viewer';

interface Account {
  role: BoardRole;
  enabled: boolean;
  userDigest: Buffer;
  passwordDigest: Buffer;
}

/** Basic credentials as sent: `Authorization: Basic base64(user:password)`. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=_-]+)[ \t]*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The board's two accounts, checked in constant time: both sides of every comparison are
 * HMAC-SHA256 digests under a per-process key (equal lengths whatever was sent), compared
 * with `timingSafeEqual`, and every user and password of both accounts is compared on every
 * request, without short-circuit, so the time taken tells nothing about which part was wrong.
 */
export class BoardCredentials {
  private readonly key = randomBytes(32);
  private readonly accounts: Account[];

  constructor(admin?: { user: string; password: string }, viewer?: { user: string; password: string }) {
    this.accounts = [this.account('admin', admin), this.account('viewer', viewer)];
  }

  static fromConfig(config: ApiConfig): BoardCredentials {
    const pair = (user?: string, password?: string) => (user !== undefined && password !== undefined ? { user, password } : undefined);
    return new BoardCredentials(pair(config.boardAdminUser, config.boardAdminPassword), pair(config.boardViewerUser, config.boardViewerPassword));
  }

  /** Whether any account is configured: without one, nobody gets in. */
  get configured(): boolean {
    return this.accounts.some((account) => account.enabled);
  }

  /** The role the request's `Authorization` header grants, or undefined (none, malformed or wrong). */
  roleOf(authorization: string | undefined): BoardRole | undefined {
    const given = parseBasicAuthorization(authorization);
    // Malformed or absent credentials still take the same path, against values nobody can send.
    const user = this.digest(given?.user ?? randomBytes(16).toString('hex'));
    const password = this.digest(given?.password ?? randomBytes(16).toString('hex'));
    let granted: BoardRole | undefined;
    for (const account of this.accounts) {
      // Bitwise &, not &&: both comparisons always run.
      const matches = Number(timingSafeEqual(user, account.userDigest)) & Number(timingSafeEqual(password, account.passwordDigest)) & Number(account.enabled);
      // The admin account comes first and wins if both match (same user and password twice).
      if (matches === 1 && given !== undefined) granted ??= account.role;
    }
    return granted;
  }

  private account(role: BoardRole, credentials: { user: string; password: string } | undefined): Account {
    // A role without an account compares against random values and can never match.
    const user = credentials?.user ?? randomBytes(32).toString('hex');
    const password = credentials?.password ?? randomBytes(32).toString('hex');
    return { role, enabled: credentials !== undefined, userDigest: this.digest(user), passwordDigest: this.digest(password) };
  }

  private digest(value: string): Buffer {
    return createHmac('sha256', this.key).update(value, 'utf8').digest();
  }
}
