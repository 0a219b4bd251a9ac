import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TaskqClient } from '@taskq/client';
import { UsageError } from './exit-codes';

export interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

const DEFAULT_URL = 'http://127.0.0.1:3000';

/**
 * The API key: `--key`, else TASKQ_KEY, else (outside production) the development key that
 * `npm start` keeps in .taskq/dev-api-key of the checkout it runs from.
 */
export function apiKeyOf(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  const key = options.key ?? env['TASKQ_KEY'];
  if (key) return key;
  if (env['NODE_ENV'] !== 'production') {
    const file = join(resolve(env['TASKQ_STATE_DIR'] ?? '.taskq'), 'dev-api-key');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  }
  throw new UsageError('no API key: pass --key or set TASKQ_KEY (npm start prints a development key)');
}

export function clientOf(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): TaskqClient {
  return new TaskqClient({ url: options.url ?? env['TASKQ_URL'] ?? DEFAULT_URL, apiKey: apiKeyOf(options, env), userAgent: 'taskq-cli/0.1' });
}
