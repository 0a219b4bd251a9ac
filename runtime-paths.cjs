// Lets the compiled apps (dist/) resolve the @taskq/* aliases: tsc does not rewrite them.
// Used as `node -r ./runtime-paths.cjs dist/apps/<app>/src/main.js`.
const path = require('node:path');
require('tsconfig-paths').register({
  baseUrl: path.join(__dirname, 'dist'),
  paths: { '@taskq/*': ['libs/*/src/index.js'] },
  addMatchAll: false,
});
