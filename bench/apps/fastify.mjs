// bench app `fastify`: Fastify 5's hello world (https://fastify.dev/docs/latest/Guides/Getting-Started/),
// exported as `app` for tsgi (--wsgi-file bench/apps/fastify.mjs --callable app); its own
// server (own/fastify) is app.listen(): bench/servers/own.mjs.
import Fastify from 'fastify';

export const app = Fastify({ logger: false });
app.get('/', async () => 'Hello World');
