const path = require('node:path');
const fs = require('node:fs');

const swcConfig = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcConfig.$schema;

/** Shared Jest settings: SWC (with decorator metadata) and the @taskq/* path aliases. */
module.exports = function preset(projectDir, overrides = {}) {
  const name = path.basename(projectDir);
  return {
    displayName: name.endsWith('-e2e') ? name : name,
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }] },
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper: {
      '^@taskq/(contracts|persistence|queue|config|testing)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    },
    ...overrides,
  };
};
