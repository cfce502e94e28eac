// The --metrics listener: a small HTTP/1.1 server in the master for Prometheus scrapes. It
// answers GET (and HEAD) for the paths of its route table (http-routes.ts: /metrics, and
// whatever was registered), 404 for any other path and 405 for any other method.
//
// It is a net.Server with its own head parser rather than node:http: the master has loaded
// the app, whose listen() takeover (src/app/node/takeover.ts) would capture an http.Server.
// What it accepts is deliberately small (RFC 9112): a request line and header lines up to
// 8 KiB, no request body (one announced is not read: the answer closes the connection).
// Garbage gets 400, a longer head 431, both followed by a close; keep-alive is HTTP/1.1's
// default. As on the stats server every stage is bounded by --socket-timeout: a connection
// whose next head is not complete that long after its first byte (or after the previous
// answer) is closed, so a client sending one byte at a time cannot hold it.

import * as net from 'node:net';
import type { Address } from '../config';
import { DEFAULT_CONTENT_TYPE, type RouteHandler, type RouteResponse, reasonPhrase, splitTarget } from './http-routes';
import { listenOn, type StatsServer } from './server';

export interface MetricsServerOptions {
  address: Address;
  routes: ReadonlyMap<string, RouteHandler>;
  /** Builds a handler's context and runs it (the caller owns the config and scoreboard). */
  run(handler: RouteHandler, method: string, path: string, query: string): RouteResponse;
  /** Relative UNIX paths resolve against this directory (default: process.cwd()). */
  cwd?: string;
  /** --chmod-socket for a UNIX path. */
  chmod?: number;
  /** --socket-timeout in ms. Default 4 s. */
  timeoutMs?: number;
  onError?(err: unknown): void;
}

/** The largest request head read (request line and header lines). */
export const MAX_HEAD_BYTES = 8192;
/** Unsent answer bytes above which no further pipelined request is read. */
const HIGH_WATER = 64 * 1024;

interface Answer extends RouteResponse {
  close: boolean;
  allow?: string;
}

function renderAnswer(method: string, a: Answer): Buffer {
  const body = Buffer.from(a.body, 'utf8');
  const head =
    `HTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\n` +
    `Content-Type: ${a.contentType ?? DEFAULT_CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n` +
    (a.allow !== undefined ? `Allow: ${a.allow}\r\n` : '') +
    (a.close ? 'Connection: close\r\n' : '') +
    '\r\n';
  const h = Buffer.from(head, 'latin1');
  return method === 'HEAD' ? h : Buffer.concat([h, body]);
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;

/** Answers one complete head (without its blank line). */
function answerHead(options: MetricsServerOptions, head: string): { method: string; answer: Answer } {
  const lines = head.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (m === null) return { method: '', answer: { status: 400, body: 'bad request\n', close: true } };
  const method = m[1]!;
  let close = m[3] === '0';
  let hasBody = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { method, answer: { status: 400, body: 'bad request\n', close: true } };
    const name = line.slice(0, colon).toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'connection') close = value.includes('close') || (m[3] === '0' && !value.includes('keep-alive'));
    if ((name === 'content-length' && value !== '0') || name === 'transfer-encoding') hasBody = true;
  }
  // A body is never read: answering and closing keeps the next request's bytes unambiguous.
  if (hasBody) close = true;
  const [path, query] = splitTarget(m[2]!);
  const handler = options.routes.get(path);
  if (handler === undefined) return { method, answer: { status: 404, body: 'not found\n', close } };
  if (method !== 'GET' && method !== 'HEAD')
    return { method, answer: { status: 405, body: 'method not allowed\n', close, allow: 'GET, HEAD' } };
  try {
    return { method, answer: { ...options.run(handler, method, path, query), close } };
  } catch (err) {
    options.onError?.(err);
    return { method, answer: { status: 500, body: 'internal error\n', close } };
  }
}

function onConnection(options: MetricsServerOptions, timeoutMs: number, sock: net.Socket, open: Set<net.Socket>): void {
  open.add(sock);
  sock.on('close', () => open.delete(sock));
  let buf = '';
  let closing = false;
  // The head deadline, armed at the first byte of each head; idle keep-alive also ends here.
  let deadline: NodeJS.Timeout | null = null;
  const arm = (): void => {
    if (deadline === null) deadline = setTimeout(() => sock.destroy(), timeoutMs);
  };
  const disarm = (): void => {
    if (deadline !== null) clearTimeout(deadline);
    deadline = null;
  };
  sock.setTimeout(timeoutMs, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  sock.on('close', disarm);
  arm();
  // Pipelined heads are answered in turn, but not faster than the client reads: above
  // HIGH_WATER unsent bytes reading stops until the socket drains (a client that never reads
  // then goes idle and meets the socket timeout).
  const serve = (): void => {
    while (!closing && sock.writableLength <= HIGH_WATER) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1 || end > MAX_HEAD_BYTES) {
        if (buf.length > MAX_HEAD_BYTES) {
          closing = true;
          sock.end(renderAnswer('', { status: 431, body: 'request head too large\n', close: true }));
        }
        return;
      }
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      disarm();
      const { method, answer } = answerHead(options, head);
      if (answer.close) {
        closing = true;
        sock.end(renderAnswer(method, answer));
        return;
      }
      sock.write(renderAnswer(method, answer));
      arm(); // the next head, or the keep-alive idle time, has the same bound
    }
    if (!closing) {
      sock.pause();
      sock.once('drain', () => {
        sock.resume();
        serve();
      });
    }
  };
  sock.on('data', (d: Buffer) => {
    if (closing) return;
    buf += d.toString('latin1');
    arm();
    serve();
  });
}

export function startMetricsServer(options: MetricsServerOptions): Promise<StatsServer> {
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 4000;
  const open = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: false }, (sock) => onConnection(options, timeoutMs, sock, open));
  return listenOn(server, { ...options, cwd }, () => {
    for (const sock of open) sock.destroy();
  });
}
