import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ApiConfig, loadConfig, runMain } from '@taskq/config';
import { CreateApiKeyDto, validateDto } from '@taskq/contracts';
import { ApiKeyStore, openPreparedDataSource } from '@taskq/persistence';
import { toApiKeyView } from './api-key-view.mapper';

const USAGE = `usage: npm run keys -- <command>
  create --name <name> --scopes <scope,scope> [--tenant <tenant>]   scopes: tasks:write, tasks:read, admin
  list
  revoke <prefix>`;

class UsageError extends Error {}

/** `npm run keys -- create|list|revoke`: API keys straight in PostgreSQL (DATABASE_URL), for operators. */
async function main(argv: string[], print: (line: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'create' && command !== 'list' && command !== 'revoke') throw new UsageError(command ? `unknown command "${command}"` : 'no command');
  const config = loadConfig(ApiConfig);
  const dataSource = await openPreparedDataSource({ url: config.databaseUrl, connectTimeoutMs: config.startupCheckTimeoutMs });
  try {
    const store = new ApiKeyStore(dataSource);
    if (command === 'create') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' } }, strict: true });
      const raw = { name: values.name, scopes: values.scopes?.split(',').map((scope) => scope.trim()), ...(values.tenant ? { tenant: values.tenant } : {}) };
      const { value, errors } = await validateDto(CreateApiKeyDto, raw, 'key');
      if (errors.length > 0) throw new UsageError(errors.map((error) => `${error.field.replace(/^key\./, '--')}: ${error.messages.join(', ')}`).join('; '));
      const { key, record } = await store.create({ name: value.name, scopes: value.scopes, tenant: value.tenant });
      print(`created key "${record.name}" (prefix ${record.prefix}, tenant ${record.tenant}, scopes ${record.scopes.join(',')})`);
      print('store it now, it is not shown again:');
      print(key);
    } else if (command === 'list') {
      if (rest.length > 0) throw new UsageError('list takes no arguments');
      const rows = (await store.list()).map(toApiKeyView);
      print(['prefix', 'name', 'tenant', 'scopes', 'created', 'last used', 'revoked'].join('\t'));
      for (const key of rows) print([key.prefix, key.name, key.tenant, key.scopes.join(','), key.createdAt, key.lastUsedAt ?? '-', key.revokedAt ?? '-'].join('\t'));
    } else {
      const [prefix, extra] = rest;
      if (!prefix || extra !== undefined) throw new UsageError('revoke takes one key prefix');
      if (!(await store.revoke(prefix))) throw new UsageError(`no active key with prefix "${prefix}"`);
      print(`revoked key ${prefix} (API replicas stop accepting it within seconds)`);
    }
  } finally {
    await dataSource.destroy();
  }
}

runMain('keys', async () => {
  try {
    await main(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError && 'code' in error)) throw error;
    process.stderr.write(`taskq keys: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
});
