const path = require('node:path');
const fs = require('node:fs');

const swcConfig = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcConfig.$schema;

/** Packages that ship only ES modules (NestJS 12 and some of its dependencies). */
function esmOnlyPackages() {
  const root = path.join(__dirname, 'node_modules');
  const names = [];
  for (const entry of fs.readdirSync(root)) {
    const scoped = entry.startsWith('@') ? fs.readdirSync(path.join(root, entry)).map((name) => `${entry}/${name}`) : [entry];
    for (const name of scoped) {
      try {
        if (JSON.parse(fs.readFileSync(path.join(root, name, 'package.json'), 'utf8')).type === 'module') names.push(name);
      } catch {
        // not a package
      }
    }
  }
  return names;
}

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnlyPackages().map(escape).join('|')})/)`];

/** Shared Jest settings: SWC (with decorator metadata) and the @taskq/* path aliases. */
module.exports = function preset(projectDir, overrides = {}) {
  const name = path.basename(projectDir);
  return {
    displayName: name.endsWith('-e2e') ? name : name,
    rootDir: projectDir,
    testEnvironment: 'node',
    setupFiles: ['reflect-metadata'],
    setupFilesAfterEnv: [path.join(__dirname, 'jest.timeout.cjs')],
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
    transform: {
      '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }],
      // ESM-only dependencies (NestJS 12 and what it imports): see jest.esm-transformer.cjs.
      '^.+\\.m?js$': [path.join(__dirname, 'jest.esm-transformer.cjs'), { ...swcConfig, swcrc: false, jsc: { ...swcConfig.jsc, parser: { syntax: 'ecmascript' } } }],
    },
    transformIgnorePatterns,
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper: {
      '^@taskq/(contracts|persistence|queue|tasks|config|testing|observability)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    },
    ...overrides,
  };
};
