// Builds the publishable @taskq/client into dist/client-package: JavaScript from tsc (the SDK
// imports only types of ours, so nothing else is needed at run time) and one declaration file
// in which dts-bundle-generator inlines the registry's types from @taskq/contracts.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = dirname(fileURLToPath(import.meta.url));
const root = join(lib, '../..');
const out = join(root, 'dist/client-package');
const build = join(root, 'dist/client-build');
const bin = (name) => join(root, 'node_modules/.bin', name);

rmSync(out, { recursive: true, force: true });
rmSync(build, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// tsc also emits the contracts the types come from; only the SDK's own files are kept.
execFileSync(bin('tsc'), ['-p', join(lib, 'tsconfig.package.json')], { stdio: 'inherit', cwd: root });
const compiled = join(build, 'libs/client/src');
for (const file of readdirSync(compiled).filter((name) => name.endsWith('.js'))) {
  if (/require\("@taskq\//.test(readFileSync(join(compiled, file), 'utf8'))) throw new Error(`${file} requires a @taskq module at run time: import types only`);
  copyFileSync(join(compiled, file), join(out, file));
}
rmSync(build, { recursive: true, force: true });
execFileSync(
  bin('dts-bundle-generator'),
  ['--silent', '--no-banner', '--project', join(lib, 'tsconfig.package.json'), '-o', join(out, 'index.d.ts'), join(lib, 'src/index.ts')],
  { stdio: 'inherit', cwd: root },
);
copyFileSync(join(lib, 'package.json'), join(out, 'package.json'));
copyFileSync(join(root, 'docs/sdk.md'), join(out, 'README.md'));
console.log(`@taskq/client built in ${out}`);
