import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { StartupFailure, type ApiConfig } from '@taskq/config';
import { ApiKeyStore, generateApiKey } from '@taskq/persistence';

/**
 * The admin key from configuration (API_KEY / API_KEY_FILE), if any. Without one and without
 * any key in PostgreSQL, nobody could use the API: production refuses to start; a developer
 * machine gets a key for this run only, printed in the log.
 */
export async function resolveBootstrapKey(config: ApiConfig, dataSource: DataSource): Promise<string | undefined> {
  if (config.apiKey) return config.apiKey;
  if ((await new ApiKeyStore(dataSource).countActive()) > 0) return undefined;
  if (config.nodeEnv === 'production') {
    throw new StartupFailure(
      'refusing to start in production without an API key: set API_KEY (or API_KEY_FILE), or create one with `npm run keys -- create --name <name> --scopes admin`',
    );
  }
  const { key } = generateApiKey();
  new Logger('Auth').warn(`no API key is configured: this run accepts the admin key ${key} (set API_KEY, or create keys with npm run keys)`);
  return key;
}
