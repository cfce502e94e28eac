// Hono under @hono/node-server and under tsgi (a fetch handler).

import { NODE_SERVER_DEFAULT_CONTENT_TYPE, NODE_SERVER_NULL_BODY, NODE_SERVER_STATUS_TEXT } from './allowed';
import { describeFramework } from './runner';

describeFramework({
  name: 'hono',
  title: 'Hono',
  file: 'hono.mjs',
  allow: [...NODE_SERVER_NULL_BODY, NODE_SERVER_STATUS_TEXT, NODE_SERVER_DEFAULT_CONTENT_TYPE],
});
