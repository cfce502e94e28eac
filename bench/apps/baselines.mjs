// The bench apps written for the baseline servers: node:http (bench/servers/node-http.mjs, one
// process or `cluster`) and uWebSockets.js (bench/servers/uws.mjs). Same logic, same bytes as
// the tsgi apps next to this file (the harness checks every answer before measuring).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { jsonDocument, cpuWork, SLEEP_MS } = require('./shared.js');

const TEXT = { 'Content-Type': 'text/plain' };

/** node:http handlers: (req, res) => void. */
export const nodeApps = {
  hello(req, res) {
    res.writeHead(200, TEXT).end('Hello World');
  },
  json(req, res) {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(jsonDocument()));
  },
  sleep(req, res) {
    setTimeout(() => res.writeHead(200, TEXT).end('Hello World'), SLEEP_MS);
  },
  cpu(req, res) {
    const digest = cpuWork();
    res.writeHead(200, TEXT).end(digest);
  },
  echo(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(Buffer.concat(chunks)));
  },
};

/** uWebSockets.js handlers: (res, req) => void. Async answers register onAborted and cork. */
export const uwsApps = {
  hello(res) {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end('Hello World');
  },
  json(res) {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(JSON.stringify(jsonDocument()));
  },
  sleep(res) {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    setTimeout(() => {
      if (aborted) return;
      res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end('Hello World'));
    }, SLEEP_MS);
  },
  cpu(res) {
    const digest = cpuWork();
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(digest);
  },
  echo(res) {
    const chunks = [];
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((ab, isLast) => {
      chunks.push(Buffer.from(ab.slice(0))); // uWS reuses the ArrayBuffer after the callback
      if (isLast && !aborted) {
        res.cork(() =>
          res.writeStatus('200 OK').writeHeader('Content-Type', 'application/octet-stream').end(Buffer.concat(chunks)),
        );
      }
    });
  },
};

export function pickApp(table, name) {
  const app = table[name ?? 'hello'];
  if (!app) {
    console.error(`unknown bench app ${JSON.stringify(name)} (known: ${Object.keys(table).join(', ')})`);
    process.exit(2);
  }
  return app;
}
