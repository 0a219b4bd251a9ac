import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TEST_API_KEY } from './api-key';
import { startAppProcess, type AppProcess } from './app-process';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');

export type BuiltApp = 'api' | 'worker' | 'monitor';

const entry = (app: BuiltApp): string => {
  const file = join(WORKSPACE_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
};

/**
 * Starts the built app exactly as `npm start` and the Dockerfiles do. The API accepts
 * TEST_API_KEY (send requests with `apiFetch`) unless `env` sets API_KEY itself.
 */
export function startBuiltApp(app: BuiltApp, env: Record<string, string>): AppProcess {
  const script = entry(app);
  // Never a default port: a test beside a running `npm start` would collide with it.
  const appEnv = app === 'api' ? { API_KEY: TEST_API_KEY, PORT: '0', ...env } : { METRICS_PORT: '-1', ...env };
  return startAppProcess(['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), script], appEnv, WORKSPACE_ROOT);
}
