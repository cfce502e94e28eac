// itty-router (AutoRouter) under @hono/node-server and under tsgi (a fetch handler).

import { NODE_SERVER_NULL_BODY, NODE_SERVER_STATUS_TEXT } from './allowed';
import { describeFramework } from './runner';

describeFramework({
  name: 'itty',
  title: 'itty-router',
  file: 'itty.mjs',
  allow: [...NODE_SERVER_NULL_BODY, NODE_SERVER_STATUS_TEXT],
});
