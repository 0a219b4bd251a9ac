import { Injectable } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyRequest } from 'fastify';
import { ApiConfig } from '@taskq/config';
import { ConsoleSessionStore, type ConsoleSession } from '@taskq/persistence';
import { ApiKeyAuthenticator, KeyStoreUnavailableError } from '../auth/api-key-authenticator';
import type { Principal } from '../auth/principal';

export const SESSION_COOKIE = 'taskq_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A session read from PostgreSQL is trusted this long: sign-out elsewhere reaches this replica within it. */
const SESSION_CACHE_MS = 5_000;
const SESSION_CACHE_SIZE = 10_000;
/** Methods that read: no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a request's session cookie gave. */
export type SessionCheck = { kind: 'none' } | { kind: 'signed-in'; principal: Principal; session: ConsoleSession } | { kind: 'csrf-refused' };

/**
 * Console sign-in: an API key is exchanged once for a server-side session whose token lives
 * only in an HttpOnly, SameSite=Strict cookie. Each request of the session acts as that key
 * (scopes, tenant; revoking the key ends it), and a request that changes something must also
 * carry the session's CSRF token in `X-CSRF-Token` (a synchroniser token, over SameSite).
 */
@Injectable()
export class ConsoleSessions {
  private readonly cache = new Map<string, { at: number; session: Promise<ConsoleSession | null> }>();

  constructor(
    private readonly store: ConsoleSessionStore,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly config: ApiConfig,
  ) {}

  /** Opens a session for a valid key; null for a key that is not. */
  async signIn(apiKey: string): Promise<{ principal: Principal; session: ConsoleSession; cookie: string } | null> {
    const principal = await this.authenticator.authenticate(apiKey);
    if (!principal) return null;
    const opened = await this.store.open(principal.keyPrefix, this.config.consoleSessionTtlMs);
    const cookie = stringifySetCookie({ name: SESSION_COOKIE, value: opened.token, ...this.cookieOptions(), expires: opened.expiresAt });
    return { principal, session: opened, cookie };
  }

  /** Ends the request's session; the cookie that clears it in the browser. */
  async signOut(request: FastifyRequest): Promise<string> {
    const token = tokenOf(request);
    if (token) {
      this.cache.delete(token);
      await this.store.close(token);
    }
    return stringifySetCookie({ name: SESSION_COOKIE, value: '', ...this.cookieOptions(), expires: new Date(0) });
  }

  /** The principal of a request's session cookie, checked against its CSRF token when the request changes something. */
  async check(request: FastifyRequest): Promise<SessionCheck> {
    const token = tokenOf(request);
    if (!token) return { kind: 'none' };
    const session = await this.lookup(token);
    if (!session || session.expiresAt.getTime() <= Date.now()) return { kind: 'none' };
    const principal = await this.authenticator.principalOf(session.keyPrefix);
    if (!principal) return { kind: 'none' };
    if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== session.csrfToken) return { kind: 'csrf-refused' };
    return { kind: 'signed-in', principal, session };
  }

  /** For the API-key hook: the principal of a request's session, `csrf-refused`, or undefined. */
  async principalFor(request: FastifyRequest): Promise<Principal | 'csrf-refused' | undefined> {
    const check = await this.check(request);
    if (check.kind === 'signed-in') return check.principal;
    return check.kind === 'csrf-refused' ? 'csrf-refused' : undefined;
  }

  private lookup(token: string): Promise<ConsoleSession | null> {
    const cached = this.cache.get(token);
    if (cached && Date.now() - cached.at < SESSION_CACHE_MS) return cached.session;
    const session = this.store.find(token);
    session.catch(() => {
      if (this.cache.get(token)?.session === session) this.cache.delete(token);
    });
    this.cache.delete(token);
    this.cache.set(token, { at: Date.now(), session });
    if (this.cache.size > SESSION_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return session.catch((error: Error) => {
      throw new KeyStoreUnavailableError(error.message);
    });
  }

  private cookieOptions(): { httpOnly: true; sameSite: 'strict'; path: string; secure: boolean } {
    // Secure when the API is reached over HTTPS (behind a proxy that terminates TLS, say so with CONSOLE_COOKIE_SECURE).
    return { httpOnly: true, sameSite: 'strict', path: '/', secure: this.config.consoleCookieSecure };
  }
}

function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  const token = parseCookie(header)[SESSION_COOKIE];
  return token === undefined || token === '' ? undefined : token;
}
