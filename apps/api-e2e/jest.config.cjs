// End-to-end tests start the built api and worker as real processes: give them time.
module.exports = require('../../jest.preset.cjs')(__dirname, { setupFilesAfterEnv: ['<rootDir>/src/support/timeout.ts'] });
