import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ApiKeyScope } from '@taskq/contracts';
import { throttledLog } from '@taskq/observability';
import { ApiKeyStore, apiKeyPrefixOf, hashApiKey, type ApiKeyEntity } from '@taskq/persistence';
import type { Principal } from './principal';

/** How long a key looked up in PostgreSQL is trusted: a revocation reaches every replica within this. */
export const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;
/** last_used_at is written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000;
/** Stands in for a missing key's prefix and hash, so every candidate costs the same work. */
const NO_PREFIX = '~none~';
const NO_HASH = Buffer.alloc(32);

export const BOOTSTRAP_TENANT = 'default';

/** PostgreSQL did not answer: no key can be checked (the caller answers 503, not 401). */
export class KeyStoreUnavailableError extends Error {
  override readonly name = 'KeyStoreUnavailableError';
}

/** A key found in PostgreSQL, with what each request needs of it made once. */
interface KnownKey {
  record: ApiKeyEntity;
  hash: Buffer;
  principal: Principal;
}

/** SHA-256 of a presented key (the bytes of hashApiKey's hex). */
const digestOf = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export interface AuthenticatorOptions {
  /** API_KEY: an admin key from configuration (compose, first start). */
  bootstrapKey?: string;
}

/**
 * Checks API keys. Unknown, revoked and malformed keys take the same path — one lookup by
 * prefix (cached), one constant-time comparison of SHA-256 hashes — and all end in the same
 * null, so neither the answer nor its timing tells them apart.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly logger = new Logger('Auth');
  /** Every request whose key is not cached fails alike while PostgreSQL is away: one line a minute. */
  private readonly logUnavailable = throttledLog((message) => this.logger.error(message));
  private readonly bootstrapHash: Buffer | null;
  private readonly bootstrapPrincipal: Principal = Object.freeze({
    keyPrefix: 'bootstrap',
    name: 'bootstrap (API_KEY)',
    scopes: Object.freeze([ApiKeyScope.Admin]),
    tenant: BOOTSTRAP_TENANT,
    allTenants: true,
  });
  private readonly cache = new Map<string, { at: number; key: Promise<KnownKey | null> }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeyStore,
    options: AuthenticatorOptions = {},
  ) {
    this.bootstrapHash = options.bootstrapKey ? Buffer.from(hashApiKey(options.bootstrapKey), 'hex') : null;
  }

  async authenticate(candidate: string | undefined): Promise<Principal | null> {
    const given = candidate ?? '';
    const hash = digestOf(given);
    const isBootstrap = this.bootstrapHash !== null && timingSafeEqual(hash, this.bootstrapHash);
    let known: KnownKey | null = null;
    let failure: Error | undefined;
    try {
      known = await this.lookup(apiKeyPrefixOf(given) ?? NO_PREFIX);
    } catch (error) {
      failure = error as Error;
    }
    const matches = timingSafeEqual(hash, known ? known.hash : NO_HASH);
    if (isBootstrap) return this.bootstrapPrincipal;
    if (failure) throw new KeyStoreUnavailableError(failure.message);
    if (!known || !matches || known.record.revokedAt !== null) return null;
    this.touch(known.record);
    return known.principal;
  }

  /**
   * The principal of a key known by its prefix (`bootstrap` for API_KEY), as long as the key
   * is still active: a console session acts as the key it was opened with.
   */
  async principalOf(prefix: string): Promise<Principal | null> {
    if (prefix === this.bootstrapPrincipal.keyPrefix) return this.bootstrapHash ? this.bootstrapPrincipal : null;
    let known: KnownKey | null;
    try {
      known = await this.lookup(prefix);
    } catch (error) {
      throw new KeyStoreUnavailableError((error as Error).message);
    }
    if (!known || known.record.revokedAt !== null) return null;
    this.touch(known.record);
    return known.principal;
  }

  /** Forgets a key at once (this replica): after a revocation through the API. */
  forget(prefix: string): void {
    this.cache.delete(prefix);
  }

  private lookup(prefix: string): Promise<KnownKey | null> {
    const cached = this.cache.get(prefix);
    if (cached && Date.now() - cached.at < KEY_CACHE_MS) return cached.key;
    const key = this.keys.findByPrefix(prefix).then((record) => record && knownKey(record));
    // A failed lookup is not remembered: the next request asks PostgreSQL again.
    key.catch((error: Error) => {
      if (this.cache.get(prefix)?.key === key) this.cache.delete(prefix);
      this.logUnavailable(`API keys cannot be checked: ${error.message}`);
    });
    this.cache.delete(prefix);
    this.cache.set(prefix, { at: Date.now(), key });
    if (this.cache.size > KEY_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return key;
  }

  private touch(record: ApiKeyEntity): void {
    const now = Date.now();
    if (now - (this.touched.get(record.id) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.touched.set(record.id, now);
    this.keys.touch(record.id, new Date(now)).catch((error: Error) => this.logger.warn(`could not record the use of key ${record.prefix}: ${error.message}`));
  }
}

function knownKey(record: ApiKeyEntity): KnownKey {
  const principal: Principal = Object.freeze({
    keyPrefix: record.prefix,
    name: record.name,
    scopes: Object.freeze([...record.scopes]),
    tenant: record.tenant,
    allTenants: record.scopes.includes(ApiKeyScope.Admin),
  });
  return { record, hash: Buffer.from(record.hash, 'hex'), principal };
}
