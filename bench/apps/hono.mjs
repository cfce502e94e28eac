// bench app `hono`: Hono's hello world (https://hono.dev/docs/getting-started/basic).
// Under tsgi: --wsgi-file bench/apps/hono.mjs (the default export's fetch method); its own
// server (own/hono) is @hono/node-server: bench/servers/own.mjs.
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello World'));

export default app;
