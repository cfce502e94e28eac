// Hello-world on node:http, one process. Usage: node bench/servers/node-http.mjs 127.0.0.1:PORT
import http from 'node:http';
import { parseAddr } from './addr.mjs';

const { host, port } = parseAddr(process.argv[2]);

const server = http.createServer((req, res) => {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World'); // headers not flushed yet: node:http adds Content-Length itself
});
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  console.log(`node:http listening on ${host}:${port} (pid ${process.pid})`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
