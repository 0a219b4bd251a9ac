import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import type { ApiKeyScope } from '@taskq/contracts';
import { ApiKeyEntity } from './entities';

/** `tq_<12 letters/digits>_<43 base64url characters>`: a public prefix and 32 random bytes. */
export const API_KEY_FORMAT = /^tq_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomPrefix(): string {
  // 62 does not divide 256: drop the bytes that would skew the draw.
  let prefix = '';
  while (prefix.length < 12) {
    for (const byte of randomBytes(16)) if (byte < 248 && prefix.length < 12) prefix += ALPHANUMERIC[byte % 62];
  }
  return prefix;
}

export function generateApiKey(): { key: string; prefix: string } {
  const prefix = randomPrefix();
  return { prefix, key: `tq_${prefix}_${randomBytes(32).toString('base64url')}` };
}

/** Keys carry 256 random bits: a plain SHA-256 cannot be brute-forced, and it is cheap per request. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix of a well-formed key, else null. */
export function apiKeyPrefixOf(key: string): string | null {
  return API_KEY_FORMAT.exec(key)?.[1] ?? null;
}

export interface NewApiKey {
  name: string;
  scopes: ApiKeyScope[];
  /** The tenant whose tasks the key submits and reads; default: the key's name. */
  tenant?: string;
}

/** API keys in PostgreSQL: created (the key is returned once, only its hash is kept), listed, revoked. */
export class ApiKeyStore {
  private readonly keys: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  async create(request: NewApiKey): Promise<{ key: string; record: ApiKeyEntity }> {
    const { key, prefix } = generateApiKey();
    const record = this.keys.create({
      id: randomUUID(),
      name: request.name,
      prefix,
      hash: hashApiKey(key),
      scopes: [...new Set(request.scopes)],
      tenant: request.tenant ?? request.name,
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.keys.insert(record);
    return { key, record };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.keys.find({ order: { createdAt: 'ASC', prefix: 'ASC' } });
  }

  findByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOne({ where: { prefix } });
  }

  /** Revokes the key; false when no active key has this prefix. */
  async revoke(prefix: string): Promise<boolean> {
    const result = await this.keys
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('prefix = :prefix AND revoked_at IS NULL', { prefix })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async countActive(): Promise<number> {
    return this.keys.createQueryBuilder('key').where('key.revokedAt IS NULL').getCount();
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.keys.update({ id }, { lastUsedAt: at });
  }
}
