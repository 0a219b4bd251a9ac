// The fault-injection suite (npm run test:faults): real processes, private Redis and PostgreSQL,
// one scenario at a time (each runs a whole stack; two at once would measure the machine, not taskq).
module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, { setupFilesAfterEnv: ['<rootDir>/src/support/timeout.ts'] }),
  maxWorkers: 1,
};
