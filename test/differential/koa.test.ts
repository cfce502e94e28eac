// Koa (@koa/router, koa-body) under app.listen() and under tsgi (a Koa instance).

import { describeFramework } from './runner';

describeFramework({ name: 'koa', title: 'Koa', file: 'koa.mjs', allow: [] });
