// The globals tsgi gives fetch apps, as @hono/node-server does when it starts serving. The
// loader defers them (fetch-lazy.ts): they are installed, and this module loaded, on the first
// read of `Request` or `Response`, or before a fetch handler serves.
//
// - `Response` = TsgiResponse (fetch-response.ts): a lightweight Response whose common
//   forms go to the native layer without undici objects; the full API materialises one.
// - `Request` = a subclass of undici's Request that also accepts the lazy request tsgi hands
//   to fetch handlers, as input or as init (`new Request(req)`, `new Request(url, req)`,
//   what Hono's app.mount() does), and adds `duplex: 'half'` for stream bodies.
//
// `instanceof` holds both ways: undici's objects are instances of the new globals, and
// the lightweight ones are instances of undici's classes. undici's `fetch()` keeps using its
// own classes, so what it returns is a real Response, which tsgi sends as any other.

import { GlobalRequest, materialize, TsgiRequest } from './fetch';
import { GlobalResponse, TsgiResponse } from './fetch-response';

/** The Response class the globals get (fetch-lazy.ts installs it as this module does). */
export { TsgiResponse };

type RequestInitLike = RequestInit & { duplex?: 'half' };

export class TsgiRequestClass extends GlobalRequest {
  static override [Symbol.hasInstance](v: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was called on
    if (this === TsgiRequestClass) return v instanceof GlobalRequest;
    // biome-ignore lint/complexity/noThisInStatic: a subclass keeps the ordinary prototype check
    return Function.prototype[Symbol.hasInstance].call(this, v);
  }

  constructor(input: RequestInfo | URL, init?: RequestInit) {
    if (input instanceof TsgiRequest) input = materialize(input);
    if (init instanceof TsgiRequest) init = materialize(init);
    const body = init?.body as { getReader?: unknown } | null | undefined;
    if (
      body !== null &&
      body !== undefined &&
      typeof body.getReader === 'function' &&
      (init as RequestInitLike).duplex === undefined
    ) {
      init = { ...init, duplex: 'half' } as RequestInitLike;
    }
    super(input, init);
  }
}

/** True once installFetchGlobals() ran in this realm (thread). */
export function fetchGlobalsInstalled(): boolean {
  return globalThis.Response === (TsgiResponse as unknown as typeof Response);
}

/** Installs the lightweight Response and the Request subclass as globals at once (idempotent);
 *  the loader defers them instead (fetch-lazy.ts). */
export function installFetchGlobals(): void {
  if (fetchGlobalsInstalled() || globalThis.Response !== GlobalResponse) return;
  Object.defineProperty(globalThis, 'Response', {
    value: TsgiResponse,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.defineProperty(globalThis, 'Request', {
    value: TsgiRequestClass,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
