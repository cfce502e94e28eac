// bench app `hono-json`: Hono answering c.json() with the `json` app's document (built and
// serialised per request, the same bytes as bench/apps/json.js). Own server: @hono/node-server.
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const { jsonDocument } = createRequire(import.meta.url)('./shared.js');

const app = new Hono();
app.get('/', (c) => c.json(jsonDocument()));

export default app;
