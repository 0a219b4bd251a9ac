module.exports = {
  projects: [
    '<rootDir>/libs/contracts',
    '<rootDir>/libs/config',
    '<rootDir>/libs/queue',
    '<rootDir>/libs/persistence',
    '<rootDir>/libs/tasks',
    '<rootDir>/libs/testing',
    '<rootDir>/libs/observability',
    '<rootDir>/libs/client',
    '<rootDir>/apps/api',
    '<rootDir>/apps/worker',
    '<rootDir>/apps/monitor',
    '<rootDir>/apps/cli',
    '<rootDir>/apps/api-e2e',
  ],
};
