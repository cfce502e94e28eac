// A Hono app, unchanged: tsgi serves the object Hono builds (it has a fetch method).
//   tsgi --http-socket :9090 --wsgi-file examples/hono-app.ts --callable app
// (under @hono/node-server the same file would end with serve(app)).
import { Hono } from 'hono';

export const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono'));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null }));
app.post('/echo', async (c) => c.json({ got: await c.req.json() }));
