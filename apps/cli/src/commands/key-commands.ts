import type { Command } from 'commander';
import { CommonConfig, loadConfig } from '@taskq/config';
import { CreateApiKeyDto, validateDto, type ApiKeyView, type CreatedApiKeyView } from '@taskq/contracts';
import { ApiKeyStore, openPreparedDataSource, toApiKeyView } from '@taskq/persistence';
import { UsageError } from '../exit-codes';
import { table, type Output } from '../output';
import { contextOf } from './context';

interface KeyOptions {
  direct?: boolean;
  databaseUrl?: string;
}

/**
 * The keys, two ways: through the API's /keys routes (an admin key), or `--direct` in
 * PostgreSQL (DATABASE_URL or --database-url), for the operator who makes the first key.
 */
interface KeyBackend {
  list(): Promise<ApiKeyView[]>;
  create(body: { name: string; scopes: string[]; tenant?: string }): Promise<CreatedApiKeyView>;
  revoke(prefix: string): Promise<void>;
  close(): Promise<void>;
}

async function directBackend(databaseUrl: string | undefined): Promise<KeyBackend> {
  const config = loadConfig(CommonConfig, databaseUrl ? { ...process.env, DATABASE_URL: databaseUrl } : process.env);
  const dataSource = await openPreparedDataSource({ url: config.databaseUrl, connectTimeoutMs: config.startupCheckTimeoutMs });
  const store = new ApiKeyStore(dataSource);
  return {
    list: async () => (await store.list()).map(toApiKeyView),
    async create(body) {
      // The same rules as POST /keys.
      const { value, errors } = await validateDto(CreateApiKeyDto, body, 'key');
      if (errors.length > 0) throw new UsageError(errors.map((error) => `${error.field.replace(/^key\./, '--')}: ${error.messages.join(', ')}`).join('; '));
      const { key, record } = await store.create({ name: value.name, scopes: value.scopes, tenant: value.tenant });
      return { ...toApiKeyView(record), key };
    },
    async revoke(prefix) {
      if (!(await store.revoke(prefix))) throw new UsageError(`no active key with prefix "${prefix}"`);
    },
    close: () => dataSource.destroy(),
  };
}

async function backendOf(command: Command): Promise<{ backend: KeyBackend; out: Output }> {
  const context = contextOf(command);
  const options = command.optsWithGlobals<KeyOptions>();
  if (options.direct || options.databaseUrl) return { backend: await directBackend(options.databaseUrl), out: context.out };
  const client = context.client();
  return { backend: { ...client.keys, close: async () => undefined }, out: context.out };
}

async function withBackend(command: Command, work: (backend: KeyBackend, out: Output) => Promise<void>): Promise<void> {
  const { backend, out } = await backendOf(command);
  try {
    await work(backend, out);
  } finally {
    await backend.close();
  }
}

/** `taskq keys list|create|revoke [--direct]`. `npm run keys` is `taskq keys --direct`. */
export function addKeyCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys: through the API (an admin key), or --direct in PostgreSQL')
    .option('--direct', 'straight in PostgreSQL (DATABASE_URL), without the API: for the first key')
    .option('--database-url <url>', 'with --direct: the database (default DATABASE_URL)');

  keys
    .command('list')
    .description('every key (never the key itself)')
    .action((_options, command: Command) =>
      withBackend(command, async (backend, out) => {
        const rows = await backend.list();
        out.result(rows, () => table(['prefix', 'name', 'tenant', 'scopes', 'created', 'last used', 'revoked'], rows.map((k) => [k.prefix, k.name, k.tenant, k.scopes.join(','), k.createdAt, k.lastUsedAt, k.revokedAt])));
      }),
    );

  keys
    .command('create')
    .description('a new key, shown once')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--scopes <scopes>', 'comma list: tasks:write, tasks:read, admin')
    .option('--tenant <tenant>', 'whose tasks it sees (default: default)')
    .action((options: { name: string; scopes: string; tenant?: string }, command: Command) =>
      withBackend(command, async (backend, out) => {
        const created = await backend.create({ name: options.name, scopes: options.scopes.split(',').map((scope) => scope.trim()), ...(options.tenant ? { tenant: options.tenant } : {}) });
        out.result(created, () =>
          [`created key "${created.name}" (prefix ${created.prefix}, tenant ${created.tenant}, scopes ${created.scopes.join(',')})`, 'store it now, it is not shown again:', created.key].join('\n'),
        );
      }),
    );

  keys
    .command('revoke <prefix>')
    .description('revoke a key; API replicas stop accepting it within seconds')
    .action((prefix: string, _options, command: Command) =>
      withBackend(command, async (backend, out) => {
        await backend.revoke(prefix);
        out.result({ revoked: prefix }, () => `revoked key ${prefix} (API replicas stop accepting it within seconds)`);
      }),
    );
}
