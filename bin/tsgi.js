#!/usr/bin/env node
'use strict';
// The tsgi command. The TypeScript sources are compiled to dist/ by `npm install`.
require('../dist/cli/main.js').main(process.argv.slice(2));
