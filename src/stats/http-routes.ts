// The paths the master's small HTTP listeners answer (--metrics, and --stats-http for the
// paths registered here): a map from a path to a handler. `/metrics` is built in; other
// paths (for example `/healthz` and `/readyz`) are added with registerRoute before the
// listeners start, and are then served by both.

import type { Config } from '../config';
import type { ScoreboardSnapshot } from '../native';

/** What a handler gets for one request. */
export interface RouteContext {
  /** GET or HEAD (other methods are answered 405 before any handler runs). */
  method: string;
  /** The request target's path, without the query. */
  path: string;
  /** The query after `?`, without it ('' when none). */
  query: string;
  config: Config;
  /** A fresh scoreboard snapshot (taken when called). */
  snapshot(): ScoreboardSnapshot;
}

export interface RouteResponse {
  status: number;
  body: string;
  /** Default: text/plain; charset=utf-8 */
  contentType?: string;
}

export type RouteHandler = (ctx: RouteContext) => RouteResponse;

export const METRICS_PATH = '/metrics';
export const DEFAULT_CONTENT_TYPE = 'text/plain; charset=utf-8';

const registered = new Map<string, RouteHandler>();

/**
 * Adds a path to every listener started afterwards (`/healthz`, `/readyz`, ...). The path
 * must start with `/`; `/metrics` is built in and cannot be replaced.
 */
export function registerRoute(path: string, handler: RouteHandler): void {
  if (!path.startsWith('/') || path.includes('?')) throw new Error(`registerRoute: bad path ${JSON.stringify(path)}`);
  if (path === METRICS_PATH) throw new Error('registerRoute: /metrics is built in');
  registered.set(path, handler);
}

/** Removes a path added by registerRoute (listeners already started keep their table). */
export function unregisterRoute(path: string): void {
  registered.delete(path);
}

/** The table for one listener: the built-in /metrics, then the registered paths. */
export function routeTable(metrics: RouteHandler): ReadonlyMap<string, RouteHandler> {
  return new Map([[METRICS_PATH, metrics], ...registered]);
}

/** `/metrics?x=1` → ['/metrics', 'x=1']. */
export function splitTarget(target: string): [string, string] {
  const q = target.indexOf('?');
  return q === -1 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
}

/** How long a request line may be before --stats-http stops waiting for its end. */
const MAX_LINE = 8192;

export type StatsHttpRequest = 'wait' | 'document' | { method: string; path: string; query: string };

/**
 * --stats-http answers the stats document to any request, as uWSGI does, without parsing
 * it. Only a `GET` or `HEAD` for a path of `routes` is answered otherwise, so this looks
 * at the bytes received so far: the route's request when the request line is complete and
 * names one, 'wait' while the bytes could still become such a line, 'document' as soon as
 * they cannot (answered at once, as before).
 */
export function classifyStatsHttpRequest(bytes: string, routes: ReadonlyMap<string, unknown>): StatsHttpRequest {
  const eol = bytes.indexOf('\n');
  if (eol === -1) {
    if (bytes.length > MAX_LINE) return 'document';
    for (const method of ['GET', 'HEAD']) {
      for (const path of routes.keys()) {
        const start = `${method} ${path}`;
        if (start.startsWith(bytes)) return 'wait';
        if (bytes.startsWith(start) && (bytes.length === start.length || ' ?'.includes(bytes[start.length]!)))
          return 'wait';
      }
    }
    return 'document';
  }
  const line = bytes.slice(0, eol).replace(/\r$/, '');
  const parts = line.split(' ');
  if (parts.length !== 3 || (parts[0] !== 'GET' && parts[0] !== 'HEAD') || !parts[2]!.startsWith('HTTP/'))
    return 'document';
  const [path, query] = splitTarget(parts[1]!);
  return routes.has(path) ? { method: parts[0], path, query } : 'document';
}

/** The reason phrase of the statuses these listeners send. */
export function reasonPhrase(status: number): string {
  const reasons: Record<number, string> = {
    200: 'OK',
    204: 'No Content',
    400: 'Bad Request',
    404: 'Not Found',
    405: 'Method Not Allowed',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return reasons[status] ?? 'Unknown';
}
