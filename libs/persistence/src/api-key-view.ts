import type { ApiKeyView } from '@taskq/contracts';
import type { ApiKeyEntity } from './entities';

export function toApiKeyView(record: ApiKeyEntity): ApiKeyView {
  return {
    name: record.name,
    prefix: record.prefix,
    scopes: record.scopes,
    tenant: record.tenant,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
  };
}
