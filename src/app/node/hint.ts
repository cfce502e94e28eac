// A plain `(req, res)` function looks exactly like a gateway callable `(environ,
// startResponse)`, and gateway is the default. When such a function fails the way a
// node:http handler does when handed an environ, the 500's log line is followed by a hint
// to run it with --app-type node.

import type { GatewayApp } from '../gateway';

export interface WatchedGateway {
  fn: GatewayApp;
  /** The last synchronous throw of the callable (cleared by gatewayHint). */
  lastError: unknown;
  /** The hint is logged once per serving thread, not with every failing request. */
  hinted: boolean;
}

/** Wraps the callable once so the dispatcher can look at what it threw. */
export function watchGateway(app: GatewayApp): WatchedGateway {
  const w: WatchedGateway = {
    lastError: undefined,
    hinted: false,
    fn: (env, startResponse) => {
      try {
        return app(env, startResponse);
      } catch (err) {
        w.lastError = err;
        throw err;
      }
    },
  };
  return w;
}

// What a (req, res) handler trips over first: res.* methods missing on startResponse, or
// req.* fields missing on the environ.
const NODE_SHAPED =
  /\b(?:setHeader|writeHead|end|write|getHeader|statusCode|status|send|json|on|once|pipe|url|method|headers|socket)\b/;

/**
 * The hint line for a gateway request that failed before startResponse, or null. A throw
 * that is a TypeError naming a node:http member, or a return without startResponse, counts.
 */
export function gatewayHint(w: WatchedGateway): string | null {
  const err = w.lastError;
  w.lastError = undefined;
  const nodeShaped = err === undefined || (err instanceof TypeError && NODE_SHAPED.test(err.message));
  if (!nodeShaped || w.hinted) return null;
  w.hinted = true;
  return 'tsgi: hint: if the callable is a node:http (req, res) handler rather than application(environ, startResponse), run it with --app-type node';
}
