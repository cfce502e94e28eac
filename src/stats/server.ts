// The stats server (--stats ADDR): one JSON document per connection, then close, as
// uWSGI's master serves it (uwsgi_send_stats in core/stats.c; docs/stats.md, "Transport").
//  - plain mode: the document is written at once, without waiting for the client; bytes the
//    client sends are read and discarded until it closes (uWSGI closes with them unread,
//    which resets the connection: the client may lose the document);
//  - --stats-http: waits for the client's first bytes (not parsed), then sends an HTTP/1.0
//    head and the document, without Content-Length, and closes; only a GET or HEAD for a path
//    of `routes` (/metrics, http-routes.ts) is answered with that route instead.
// The document is built per connection by `getDocument`, so every client sees fresh values.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Address } from '../config';
import { emitStats, type StatsObject } from './emitter';
import { classifyStatsHttpRequest, DEFAULT_CONTENT_TYPE, type RouteResponse, reasonPhrase } from './http-routes';

export const STATS_HTTP_HEAD =
  'HTTP/1.0 200 OK\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json\r\n\r\n';

export interface StatsServerOptions {
  address: Address;
  /** --stats-http */
  http: boolean;
  /** --stats-minified */
  minified: boolean;
  getDocument(): StatsObject;
  /** Relative UNIX paths resolve against this directory (default: process.cwd()). */
  cwd?: string;
  /** --chmod-socket for a UNIX path. */
  chmod?: number;
  /** How long a connection may take (waiting for the request in HTTP mode, the client
   *  reading, the client closing); --socket-timeout, default 4 s. */
  timeoutMs?: number;
  /** Called when building or sending a document fails (the connection is dropped). */
  onError?(err: unknown): void;
  /** --stats-http: the paths answered with something else than the document (http-routes.ts). */
  routes?: ReadonlyMap<string, unknown>;
  /** Answers a request classified as one of `routes`. */
  answerRoute?(method: string, path: string, query: string): RouteResponse;
}

export interface StatsServer {
  /** The bound TCP port (the real one for port 0), or undefined for UNIX sockets. */
  readonly port: number | undefined;
  /** The fd of the listening socket, for the startup log line (-1 when unknown). */
  readonly fd: number;
  close(): Promise<void>;
}

export function listenTarget(address: Address, cwd: string): net.ListenOptions {
  switch (address.kind) {
    case 'tcp':
      return { host: address.host, port: address.port, exclusive: true };
    case 'unix':
      return { path: path.resolve(cwd, address.path), exclusive: true };
    case 'abstract':
      return { path: '\0' + address.name, exclusive: true };
  }
}

// A stale UNIX socket file left by a previous run is replaced (uWSGI unlinks before bind);
// anything that is not a socket is left alone and the bind fails.
export function removeStaleSocket(file: string): void {
  try {
    if (fs.lstatSync(file).isSocket()) fs.unlinkSync(file);
  } catch {
    // absent: nothing to do
  }
}

/** A route's answer on --stats-http: HTTP/1.0 like the document, with a Content-Length. */
function sendRoute(sock: net.Socket, method: string, answer: () => RouteResponse, options: StatsServerOptions): void {
  let res: RouteResponse;
  try {
    res = answer();
  } catch (err) {
    options.onError?.(err);
    res = { status: 500, body: 'internal error\n' };
  }
  const body = Buffer.from(res.body, 'utf8');
  const head =
    `HTTP/1.0 ${res.status} ${reasonPhrase(res.status)}\r\nConnection: close\r\n` +
    `Content-Type: ${res.contentType ?? DEFAULT_CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`;
  sock.end(method === 'HEAD' ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

export function startStatsServer(options: StatsServerOptions): Promise<StatsServer> {
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 4000;
  const render = (): string | null => {
    try {
      return emitStats(options.getDocument(), { minified: options.minified });
    } catch (err) {
      options.onError?.(err);
      return null;
    }
  };

  const onConnection = (sock: net.Socket): void => {
    sock.setTimeout(timeoutMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    const send = (): void => {
      const body = render();
      if (body === null) {
        sock.destroy();
        return;
      }
      sock.end(options.http ? STATS_HTTP_HEAD + body : body);
    };
    if (options.http) {
      // Whatever the client sends first gets the document, unless it is (or may still
      // become) the request line of a route; then answer. Later bytes are drained.
      const routes = options.routes ?? new Map<string, unknown>();
      let head = '';
      const onData = (d: Buffer): void => {
        head += d.toString('latin1');
        const req = classifyStatsHttpRequest(head, routes);
        if (req === 'wait') return;
        sock.off('data', onData);
        sock.on('data', () => {});
        if (req === 'document' || options.answerRoute === undefined) send();
        else sendRoute(sock, req.method, () => options.answerRoute!(req.method, req.path, req.query), options);
      };
      sock.on('data', onData);
    } else {
      // Drain (and ignore) anything the client sends, so closing never resets the connection
      // with unread bytes; the socket is fully closed once the client closes its side.
      sock.on('data', () => {});
      send();
    }
  };

  const server = net.createServer({ allowHalfOpen: false, pauseOnConnect: false }, onConnection);
  return listenOn(server, { ...options, cwd });
}

/**
 * Binds a master listener (--stats, --metrics) to its address: a stale UNIX socket file is
 * replaced, --chmod-socket applied, and close() also unlinks the file. `onClose` runs as
 * close() begins (to end the connections still open).
 */
export function listenOn(
  server: net.Server,
  o: { address: Address; cwd: string; chmod?: number; onError?(err: unknown): void },
  onClose?: () => void,
): Promise<StatsServer> {
  const target = listenTarget(o.address, o.cwd);
  const file = o.address.kind === 'unix' ? target.path : undefined;
  if (file !== undefined) removeStaleSocket(file);
  return new Promise<StatsServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      server.on('error', (err) => o.onError?.(err));
      if (file !== undefined && o.chmod !== undefined) fs.chmodSync(file, o.chmod);
      const bound = server.address();
      const handle = (server as unknown as { _handle?: { fd?: number } })._handle;
      resolve({
        port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
        fd: typeof handle?.fd === 'number' ? handle.fd : -1,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            onClose?.();
            if (file === undefined) return;
            try {
              fs.unlinkSync(file);
            } catch {
              // already gone
            }
          }),
      });
    });
  });
}
