// Hono under @hono/node-server and under tsgi (a fetch handler).

import { describeFramework } from './runner';

describeFramework({ name: 'hono', title: 'Hono', file: 'hono.mjs', allow: [] });
