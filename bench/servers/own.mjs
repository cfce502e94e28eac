// A framework bench app on the server its users run without tsgi. Usage:
//   node bench/servers/own.mjs 127.0.0.1:PORT APP
// APP is one of the framework apps in bench/apps/ (fetch, hono, hono-json, express, koa,
// fastify): the same module tsgi loads, served here by @hono/node-server, node:http,
// app.listen() or fastify.listen(), with each server's defaults.
import http from 'node:http';
import { parseAddr } from './addr.mjs';

const { host, port } = parseAddr(process.argv[2]);
const appName = process.argv[3];

const honoServe = async (file) => {
  const { serve } = await import('@hono/node-server');
  const app = (await import(file)).default;
  return serve({ fetch: app.fetch, port, hostname: host });
};

/** How each app's users serve it without tsgi; each returns once the port is bound. */
const servers = {
  hono: () => honoServe('../apps/hono.mjs'),
  'hono-json': () => honoServe('../apps/hono-json.mjs'),
  // A bare fetch handler's node:http counterpart: the same answer, written for node:http
  // (a Response of a string has Content-Type text/plain;charset=UTF-8 and a known length).
  fetch: () =>
    new Promise((resolve) => {
      const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': 11 }).end('Hello World');
      });
      server.listen(port, host, () => resolve(server));
    }),
  express: async () => {
    const { app } = await import('../apps/express.mjs');
    return new Promise((resolve) => {
      const s = app.listen(port, host, () => resolve(s));
    });
  },
  koa: async () => {
    const { app } = await import('../apps/koa.mjs');
    return new Promise((resolve) => {
      const s = app.listen(port, host, () => resolve(s));
    });
  },
  fastify: async () => {
    const { app } = await import('../apps/fastify.mjs');
    await app.listen({ port, host });
    return app.server;
  },
};

const start = servers[appName];
if (!start) {
  console.error(`unknown framework app ${JSON.stringify(appName)} (known: ${Object.keys(servers).join(', ')})`);
  process.exit(2);
}
await start();
console.log(`${appName} on its own server listening on ${host}:${port} (pid ${process.pid})`);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
