// Response headers of fetch handlers, rendered into the "Name: value\r\n" block that
// transport.respond() takes, plus the flags native framing needs.
//
// Hop-by-hop fields (RFC 9110 section 7.6.1: Connection, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Trailer, Upgrade) describe one connection, and tsgi owns the
// connection: it frames the body itself (Content-Length, or chunked for streamed HTTP/1.1
// bodies, RFC 9112 section 6), so an app's `Transfer-Encoding: chunked` (Hono's streamSSE()
// and streamText() set it) is never sent as is. `Connection: close` keeps its meaning: the
// connection closes after this response and the head says so once. A Fetch Response cannot
// have status 101, so Upgrade is always dropped.

import { ResponseFlags } from '../native/types';
import { checkHeaderName, checkHeaderValue } from './response';

/** The Content-Type @hono/node-server (and Hono's c.text()) give a string body. */
export const TEXT_PLAIN_UTF8 = 'text/plain; charset=UTF-8';

export interface RenderedHeaders {
  block: string;
  flags: number;
  hasContentType: boolean;
}

const EMPTY: RenderedHeaders = Object.freeze({ block: '', flags: 0, hasContentType: false });

const enum Kind {
  Plain = 0,
  ContentType = 1,
  ContentLength = 2,
  Connection = 3,
  HopByHop = 4,
}

/** What a header name means to framing, by a cheap length switch before lower-casing. */
function classify(name: string): Kind {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te' ? Kind.HopByHop : Kind.Plain;
    case 7: {
      const n = name.toLowerCase();
      return n === 'upgrade' || n === 'trailer' ? Kind.HopByHop : Kind.Plain;
    }
    case 10: {
      const n = name.toLowerCase();
      return n === 'connection' ? Kind.Connection : n === 'keep-alive' ? Kind.HopByHop : Kind.Plain;
    }
    case 12:
      return name.toLowerCase() === 'content-type' ? Kind.ContentType : Kind.Plain;
    case 14:
      return name.toLowerCase() === 'content-length' ? Kind.ContentLength : Kind.Plain;
    case 16:
      return name.toLowerCase() === 'proxy-connection' ? Kind.HopByHop : Kind.Plain;
    case 17:
      return name.toLowerCase() === 'transfer-encoding' ? Kind.HopByHop : Kind.Plain;
    default:
      return Kind.Plain;
  }
}

/** HTTP whitespace around a value is not part of it (Fetch standard "normalize"). */
function trimValue(v: string): string {
  const n = v.length;
  if (n === 0) return v;
  const a = v.charCodeAt(0);
  const b = v.charCodeAt(n - 1);
  if (a !== 32 && a !== 9 && a !== 10 && a !== 13 && b !== 32 && b !== 9 && b !== 10 && b !== 13) return v;
  return v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
}

/** Accumulates header lines; `error` is set at the first field that cannot be sent. */
class Block {
  block = '';
  flags = 0;
  hasContentType = false;
  closeSent = false;
  error: string | null = null;

  add(name: string, value: string): void {
    if (this.error !== null) return;
    const err = checkHeaderName(name) ?? checkHeaderValue(name, value);
    if (err !== null) {
      this.error = err;
      return;
    }
    switch (classify(name)) {
      case Kind.Plain:
        break;
      case Kind.ContentType:
        this.hasContentType = true;
        break;
      case Kind.ContentLength:
        this.flags |= ResponseFlags.HasContentLength;
        break;
      case Kind.Connection:
        if (/(?:^|[\s,])close(?:$|[\s,])/i.test(value) && !this.closeSent) {
          this.closeSent = true;
          this.flags |= ResponseFlags.ConnectionClose;
          this.block += 'Connection: close\r\n';
        }
        return;
      case Kind.HopByHop:
        return;
    }
    this.block += name + ': ' + value + '\r\n';
  }

  done(): RenderedHeaders {
    return { block: this.block, flags: this.flags, hasContentType: this.hasContentType };
  }
}

/**
 * Renders a ResponseInit `headers` that is not a Headers object: a record, or an iterable
 * of [name, value] pairs. Names keep the case the app wrote (as node:http's writeHead does).
 * Returns null when undici would refuse it (the caller then lets undici throw its error).
 */
export function renderHeaderInit(init: unknown): RenderedHeaders | null {
  if (init === undefined || init === null) return EMPTY;
  const out = new Block();
  const iter = (init as Iterable<unknown>)[Symbol.iterator];
  if (typeof iter === 'function') {
    for (const pair of init as Iterable<unknown>) {
      if (typeof pair !== 'object' || pair === null) return null;
      const p = Array.isArray(pair) ? pair : Array.from(pair as Iterable<unknown>);
      if (p.length !== 2) return null;
      out.add(String(p[0]), trimValue(String(p[1])));
    }
  } else {
    const rec = init as Record<string, unknown>;
    for (const name in rec) {
      if (!Object.hasOwn(rec, name)) continue;
      const v = rec[name];
      out.add(name, trimValue(typeof v === 'string' ? v : String(v)));
    }
  }
  return out.error === null ? out.done() : null;
}

/**
 * Renders a Headers object (names come lower-cased from it); every Set-Cookie value is a
 * line of its own. Duck-typed headers without getSetCookie() give their set-cookie entries
 * through forEach. Throws a TypeError naming the field that cannot be sent.
 */
export function renderHeaders(headers: Pick<Headers, 'forEach'> & { getSetCookie?: () => string[] }): RenderedHeaders {
  const out = new Block();
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : null;
  headers.forEach((value, name) => {
    if (cookies === null || name.length !== 10 || name.toLowerCase() !== 'set-cookie') out.add(name, value);
  });
  if (cookies !== null) for (let i = 0; i < cookies.length; i++) out.add('set-cookie', cookies[i]!);
  if (out.error !== null) throw new TypeError('invalid response headers: ' + out.error);
  return out.done();
}
