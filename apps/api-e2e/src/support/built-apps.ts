import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAppProcess, type AppProcess } from '@taskq/testing';

export { freePort } from '@taskq/testing';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

export type BuiltApp = 'api' | 'worker' | 'monitor';

const entry = (app: BuiltApp): string => {
  const file = join(WORKSPACE_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
};

/** Starts the built app exactly as `npm start` and the Dockerfiles do. */
export function startBuiltApp(app: BuiltApp, env: Record<string, string>): AppProcess {
  const script = entry(app);
  return startAppProcess(['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), script], env, WORKSPACE_ROOT);
}
