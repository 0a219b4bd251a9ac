#!/usr/bin/env node
// `npx taskq …` in the checkout (after `npm run build`): the built CLI, with the @taskq/* aliases resolved.
require('../runtime-paths.cjs');
require('../dist/apps/cli/src/main.js');
