#!/usr/bin/env node
'use strict';
// The tsgi command. The TypeScript sources are compiled to dist/ by `npm install`.
// V8's optimising compiler starts off and is turned on when this process begins to serve; a
// master never turns it on (src/process/optimizer.ts says why).
require('node:v8').setFlagsFromString('--no-turbofan');
require('../dist/cli/main.js').main(process.argv.slice(2));
