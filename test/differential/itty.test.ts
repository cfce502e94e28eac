// itty-router (AutoRouter) under @hono/node-server and under tsgi (a fetch handler).

import { describeFramework } from './runner';

describeFramework({ name: 'itty', title: 'itty-router', file: 'itty.mjs', allow: [] });
