// Recognising node:http apps among exports: an Express or Connect app (a function with
// `handle` and `use`), a Koa app (`callback()`), a Fastify instance (`ready()` and a
// `server`), an http.Server (its 'request' listeners), or, with --app-type node, any
// `(req, res)` function. A plain function is a gateway callable unless told otherwise:
// `(environ, startResponse)` and `(req, res)` cannot be told apart by looking.

import type { Server as HttpServer } from 'node:http';
import type { NodeHandler } from './exchange';
import { isHttpServer } from './servers';

/** A node:http app ready to serve: the request handler and, when known, its server. */
export interface NodeApp {
  handler: NodeHandler;
  /** 'Express app', 'Koa app', 'Fastify instance', 'http.Server', 'node:http handler'. */
  label: string;
  /** The http.Server whose 'request' listeners serve (Fastify's, an exported one). */
  server?: HttpServer;
}

type Fn = (...args: unknown[]) => unknown;

function isServer(v: unknown): v is HttpServer {
  return isHttpServer(v);
}

/** An http.Server's 'request' listeners as one handler (emit, as node's server does). */
export function serverHandler(server: HttpServer): NodeHandler {
  return (req, res) => server.emit('request', req, res);
}

export function isExpressLike(v: unknown): boolean {
  return (
    typeof v === 'function' &&
    typeof (v as { handle?: unknown }).handle === 'function' &&
    typeof (v as { use?: unknown }).use === 'function'
  );
}

function isKoaLike(v: unknown): v is { callback(): NodeHandler } {
  if (v === null || typeof v !== 'object') return false;
  const o = v as { callback?: unknown; use?: unknown; middleware?: unknown };
  return typeof o.callback === 'function' && typeof o.use === 'function' && Array.isArray(o.middleware);
}

function isFastifyLike(v: unknown): v is { ready(): Promise<unknown>; server: HttpServer } {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  const o = v as { ready?: unknown; server?: unknown; route?: unknown };
  return typeof o.ready === 'function' && typeof o.route === 'function' && isServer(o.server);
}

/**
 * The node:http app an export is, or null. Fastify's routes are only complete after
 * `ready()`, so this awaits it; its server's 'request' listener is Fastify's router.
 */
export async function recognizeNodeApp(v: unknown, plainFunctions: boolean): Promise<NodeApp | null> {
  if (isExpressLike(v)) {
    const name =
      typeof (v as { set?: unknown }).set === 'function' && typeof (v as { render?: unknown }).render === 'function'
        ? 'Express app'
        : 'Connect app';
    return { handler: v as NodeHandler, label: name };
  }
  if (isKoaLike(v)) return { handler: v.callback(), label: 'Koa app' };
  if (isFastifyLike(v)) {
    await v.ready();
    return { handler: serverHandler(v.server), label: 'Fastify instance', server: v.server };
  }
  if (isServer(v)) return { handler: serverHandler(v), label: 'http.Server', server: v };
  if (plainFunctions && typeof v === 'function') return { handler: v as Fn as NodeHandler, label: 'node:http handler' };
  return null;
}
