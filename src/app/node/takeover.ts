// Taking over `server.listen()`: most Express/Koa/http apps end with `app.listen(3000)` and
// export nothing. Like NGINX Unit's Node.js loader and PM2's cluster mode, tsgi replaces
// net.Server.prototype.listen (http.Server and https.Server inherit it) so an HTTP server the
// app starts is recorded instead of bound, and tsgi serves its 'request' listeners on its
// own sockets. The patch stays installed after the import so late calls (after async setup,
// e.g. Fastify's `await app.listen()`) are caught too. Plain net.Servers bind as usual.

import type { Server as HttpServer } from 'node:http';
import * as net from 'node:net';
import { isHttpServer } from './servers';

type Listen = (this: net.Server, ...args: unknown[]) => net.Server;

interface TakenServer {
  server: HttpServer;
  /** What the app asked for, for the log line: "3000", "127.0.0.1:3000", "/tmp/app.sock". */
  asked: string;
}

const taken: TakenServer[] = [];
const waiters: Array<(s: TakenServer) => void> = [];
let original: Listen | null = null;
let log: (line: string) => void = (line) => process.stderr.write(line + '\n');

function describeListen(args: unknown[]): { asked: string; port: number; host: string; cb: unknown } {
  let cb: unknown;
  if (typeof args[args.length - 1] === 'function') cb = args.pop();
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const o = first as { port?: unknown; host?: unknown; path?: unknown };
    if (typeof o.path === 'string') return { asked: o.path, port: 0, host: '', cb };
    const port = Number(o.port ?? 0) || 0;
    const host = typeof o.host === 'string' ? o.host : '';
    return { asked: host.length > 0 ? host + ':' + port : String(port), port, host, cb };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { asked: first, port: 0, host: '', cb };
  const port = Number(first ?? 0) || 0;
  const host = typeof args[1] === 'string' ? args[1] : '';
  return { asked: host.length > 0 ? host + ':' + port : String(port), port, host, cb };
}

function takeOver(server: HttpServer, args: unknown[]): HttpServer {
  const { asked, port, host, cb } = describeListen(args);
  if (typeof cb === 'function') server.once('listening', cb as () => void);
  const address = { address: host.length > 0 ? host : '::', family: host.includes('.') ? 'IPv4' : 'IPv6', port };
  // What node reports for a bound server, so `server.address().port` and `server.listening`
  // work; close() only says it closed: tsgi's sockets are not the app's to close.
  Object.defineProperties(server, {
    listening: { configurable: true, get: () => true },
    address: { configurable: true, value: () => address },
    close: {
      configurable: true,
      value(this: HttpServer, done?: (err?: Error) => void): HttpServer {
        process.nextTick(() => {
          this.emit('close');
          if (typeof done === 'function') done();
        });
        return this;
      },
    },
  });
  const entry = { server, asked };
  taken.push(entry);
  log(`tsgi: took over server.listen(${asked}); serving on tsgi's sockets, the port the app asked for is ignored`);
  process.nextTick(() => server.emit('listening'));
  for (const w of waiters.splice(0)) w(entry);
  return server;
}

/** Installs the listen() takeover (once per thread); `logLine` receives the one log line. */
export function installListenTakeover(logLine?: (line: string) => void): void {
  if (logLine !== undefined) log = logLine;
  if (original !== null) return;
  const orig = (original = net.Server.prototype.listen as unknown as Listen);
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    if (isHttpServer(this)) return takeOver(this, args);
    return orig.apply(this, args);
  } as typeof net.Server.prototype.listen;
}

/** How many servers were taken over so far: a load asks only for those after its mark. */
export function takeoverMark(): number {
  return taken.length;
}

/** The first server the app tried to listen() with since `mark`, if any. */
export function takenServer(mark = 0): HttpServer | null {
  return taken.length > mark ? taken[mark]!.server : null;
}

/** Waits for a late listen() (after async setup), up to `ms`; null when none came. */
export function waitForListen(ms: number, mark = 0): Promise<HttpServer | null> {
  const now = takenServer(mark);
  if (now !== null) return Promise.resolve(now);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      const i = waiters.indexOf(onListen);
      if (i >= 0) waiters.splice(i, 1);
      resolve(null);
    }, ms);
    function onListen(s: TakenServer): void {
      clearTimeout(timer);
      resolve(s.server);
    }
    waiters.push(onListen);
  });
}
