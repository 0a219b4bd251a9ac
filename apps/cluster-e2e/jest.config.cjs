// The Redis Cluster suite (npm run test:cluster): a private three-master cluster with a replica
// per master, started once for the run (src/support/global-setup.ts). Every file here, and the
// api-e2e task-flow, lifecycle and reconciler suites, run against it through TEST_REDIS_URL.
const path = require('node:path');

const apiE2e = path.join(__dirname, '../api-e2e/src');
module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, { setupFilesAfterEnv: [path.join(apiE2e, 'support/timeout.ts')] }),
  roots: ['<rootDir>/src', apiE2e],
  testMatch: ['<rootDir>/src/**/*.spec.ts', ...['task-flow', 'task-lifecycle', 'reconciler'].map((name) => path.join(apiE2e, `${name}.spec.ts`))],
  globalSetup: '<rootDir>/src/support/global-setup.ts',
  globalTeardown: '<rootDir>/src/support/global-teardown.ts',
  // Two stacks at once at most: each runs an api and workers beside six redis-servers.
  maxWorkers: 2,
};
