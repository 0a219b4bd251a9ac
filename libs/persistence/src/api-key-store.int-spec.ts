import type { DataSource } from 'typeorm';
import { ApiKeyScope } from '@taskq/contracts';
import { queryDatabase, testDatabase } from '@taskq/testing';
import { API_KEY_FORMAT, ApiKeyStore, apiKeyPrefixOf, hashApiKey } from './api-key-store';
import { openPreparedDataSource } from './database';

const db = testDatabase('api_keys');
let dataSource: DataSource;
let sut: ApiKeyStore;

beforeAll(async () => {
  dataSource = await openPreparedDataSource({ url: db.url });
  sut = new ApiKeyStore(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
  await db.drop();
});

describe(ApiKeyStore.name, () => {
  it('creates a random key and keeps only its hash', async () => {
    const { key, record } = await sut.create({ name: 'ci', scopes: [ApiKeyScope.TasksWrite, ApiKeyScope.TasksRead, ApiKeyScope.TasksRead], tenant: 'acme' });

    expect(key).toMatch(API_KEY_FORMAT);
    expect(apiKeyPrefixOf(key)).toBe(record.prefix);
    const secret = key.slice('tq_'.length + 12 + 1);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const rows = await queryDatabase<Record<string, unknown>>(db.url, 'SELECT * FROM api_keys WHERE id = $1', [record.id]);
    expect(rows).toEqual([expect.objectContaining({ name: 'ci', prefix: record.prefix, hash: hashApiKey(key), scopes: ['tasks:write', 'tasks:read'], tenant: 'acme', revoked_at: null })]);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('never makes the same key twice', async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, () => sut.create({ name: 'many', scopes: [ApiKeyScope.TasksRead], tenant: 'acme' })));
    expect(new Set(keys.map((k) => k.key)).size).toBe(20);
    expect(new Set(keys.map((k) => k.record.prefix)).size).toBe(20);
  });

  it('revokes an active key once', async () => {
    const { record } = await sut.create({ name: 'old', scopes: [ApiKeyScope.Admin], tenant: 'ops' });
    const activeBefore = await sut.countActive();
    expect(await sut.revoke(record.prefix)).toBe(true);
    expect(await sut.revoke(record.prefix)).toBe(false);
    expect(await sut.revoke('nosuchprefix')).toBe(false);
    expect((await sut.findByPrefix(record.prefix))?.revokedAt).toBeInstanceOf(Date);
    expect(await sut.countActive()).toBe(activeBefore - 1);
  });

  it('refuses unknown scopes at the database too', async () => {
    await expect(sut.create({ name: 'bad', scopes: ['root' as ApiKeyScope], tenant: 'x' })).rejects.toThrow(/api_keys_scopes_check/);
  });
});

describe(apiKeyPrefixOf.name, () => {
  it.each(['', 'tq_short_x', `tq_ABCDEFGHIJKL_${'a'.repeat(42)}`, `xx_ABCDEFGHIJKL_${'a'.repeat(43)}`, `tq_ABCDEFGHIJK!_${'a'.repeat(43)}`])('finds no prefix in %p', (key) => {
    expect(apiKeyPrefixOf(key)).toBeNull();
  });
});
