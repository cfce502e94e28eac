// A Fastify instance: tsgi waits for ready() and routes requests through it.
//   tsgi --http-socket :9090 --wsgi-file examples/fastify-app.mjs --callable app
import Fastify from 'fastify';

export const app = Fastify();

app.get('/', async () => 'Hello from Fastify');
app.get('/users/:id', async (req) => ({ id: req.params.id, q: req.query.q ?? null }));
app.post('/echo', async (req) => ({ got: req.body }));
