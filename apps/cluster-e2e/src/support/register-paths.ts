// Jest's moduleNameMapper does not apply to global set-up: resolve @taskq/* to the sources here.
// Imported first by global-setup.ts, so that its @taskq imports resolve.
import { join } from 'node:path';
import { register } from 'tsconfig-paths';

register({ baseUrl: join(__dirname, '../../../..'), paths: { '@taskq/*': ['libs/*/src/index.ts'] }, addMatchAll: false });
