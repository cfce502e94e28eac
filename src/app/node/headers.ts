// Header plumbing for node:http apps: request headers rebuilt from the environ (node's
// lower-case names), response headers rendered from what ServerResponse collected, and the
// Date header node:http adds by default.

import { ResponseFlags } from '../../native/types';
import type { Environ } from '../environ';
import { checkHeaderName, checkHeaderValue } from '../response';

/** HTTP_USER_AGENT -> user-agent, computed once per var name. */
const headerNames = new Map<string, string>();

function headerName(key: string): string {
  let name = headerNames.get(key);
  if (name === undefined) {
    name = key.slice(5).toLowerCase().replaceAll('_', '-');
    if (headerNames.size < 1024) headerNames.set(key, name);
  }
  return name;
}

/**
 * `req.headers` and `req.rawHeaders` from the environ, in one pass: every HTTP_* var (name
 * lower-cased, `_` -> `-`; the original case is not kept) and the non-empty CONTENT_TYPE /
 * CONTENT_LENGTH, which CGI keeps apart (each once). The core delivers each header name
 * once (repeats joined with ", ", nginx's rule), so node's duplicate rules have nothing to
 * merge and the object is filled directly.
 */
export function headersFromEnviron(env: Environ, raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const key in env) {
    if (key.length > 5 && key.charCodeAt(0) === 72 && key.startsWith('HTTP_')) {
      if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') continue;
      const v = env[key];
      if (typeof v === 'string') {
        const name = headerName(key);
        headers[name] = v;
        raw.push(name, v);
      }
    } else if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') {
      const v = env[key];
      if (typeof v === 'string' && v.length > 0) {
        const name = key === 'CONTENT_TYPE' ? 'content-type' : 'content-length';
        headers[name] = v;
        raw.push(name, v);
      }
    }
  }
  return headers;
}

/**
 * `req.rawHeaders` from the raw header lines the core delivers to node:http apps over HTTP
 * (RequestFlags.RawHeaders): `count` lines of 4 offsets from `meta[4 * nvars]` on, names
 * as the client sent them, in order, repeats kept, as node:http's parser gives them.
 */
export function rawHeadersFromMeta(blob: string, meta: Uint32Array, nvars: number, count: number): string[] {
  // Filled by push so the array stays packed (node's getters walk it).
  const raw: string[] = [];
  let at = nvars * 4;
  const end = Math.min(at + count * 4, meta.length);
  for (; at + 4 <= end; at += 4)
    raw.push(blob.slice(meta[at]!, meta[at + 1]!), blob.slice(meta[at + 2]!, meta[at + 3]!));
  return raw;
}

// ---- Date -------------------------------------------------------------------------------

let dateCache: string | null = null;

function resetDate(): void {
  dateCache = null;
}

/** The IMF-fixdate of now, cached for the current second (node:http's utcDate() does the same). */
export function utcDate(): string {
  if (dateCache === null) {
    const d = new Date();
    dateCache = d.toUTCString();
    setTimeout(resetDate, 1000 - d.getMilliseconds()).unref();
  }
  return dateCache;
}

// ---- response heads ---------------------------------------------------------------------

/** The rendered head of a response. */
export interface NodeHead {
  headers: string;
  flags: number;
  hasDate: boolean;
  /** A `Trailer` field: node:http then sends the body chunked, even when given at once. */
  hasTrailer: boolean;
}

function headerError(code: string, message: string): TypeError {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = code;
  return err;
}

/**
 * Adds one header (a value array gives one line per element) to `head`. Hop-by-hop headers
 * are the core's business (RFC 9112 section 9.6 / 6.1): the core frames the body and decides
 * keep-alive, so `Transfer-Encoding: chunked`, `Keep-Alive` and a `Connection` that is not
 * `close` are dropped rather than sent twice or contradicting the framing. A
 * `Transfer-Encoding` other than chunked means the body is sent as written, ended by close.
 */
function addHeader(head: NodeHead, name: string, value: unknown, validate: boolean): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) addHeader(head, name, value[i], validate);
    return;
  }
  if (value === undefined)
    throw headerError('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
  const v = typeof value === 'string' ? value : String(value);
  if (validate) {
    const bad = checkHeaderName(name);
    if (bad !== null)
      throw headerError('ERR_INVALID_HTTP_TOKEN', 'Header name must be a valid HTTP token ["' + name + '"]');
  }
  const badValue = checkHeaderValue(name, v);
  if (badValue !== null) throw headerError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === 'date') head.hasDate = true;
      break;
    case 7:
      if (name.toLowerCase() === 'trailer') head.hasTrailer = true;
      break;
    case 10:
      if (name.toLowerCase() === 'connection') {
        if (!/(?:^|[\s,])close(?:$|[\s,])/i.test(v)) return;
        head.flags |= ResponseFlags.ConnectionClose;
      } else if (name.toLowerCase() === 'keep-alive') {
        return;
      }
      break;
    case 14:
      if (name.toLowerCase() === 'content-length') head.flags |= ResponseFlags.HasContentLength;
      break;
    case 17:
      if (name.toLowerCase() === 'transfer-encoding') {
        if (/(?:^|,)\s*chunked\s*$/i.test(v)) return;
        head.flags |= ResponseFlags.HasTransferEncoding;
      }
      break;
  }
  head.headers += name + ': ' + v + '\r\n';
}

/**
 * Renders the headers ServerResponse hands to `_storeHeader`: its own table (`outHeaders`,
 * `{ lowername: [name, value] }`, validated by setHeader already), or what writeHead got
 * (an object, a flat [name, value, ...] array or an array of pairs), validated here as
 * node:http does.
 */
export function renderNodeHead(headers: unknown, outHeaders: unknown): NodeHead {
  const head: NodeHead = { headers: '', flags: 0, hasDate: false, hasTrailer: false };
  if (headers === null || headers === undefined) return head;
  if (headers === outHeaders) {
    const table = headers as Record<string, [string, unknown]>;
    for (const key in table) {
      const entry = table[key]!;
      addHeader(head, entry[0], entry[1], false);
    }
  } else if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (let i = 0; i < headers.length; i++) {
        const pair = headers[i] as unknown[];
        addHeader(head, String(pair[0]), pair[1], true);
      }
    } else {
      if (headers.length % 2 !== 0) throw headerError('ERR_INVALID_ARG_VALUE', "The argument 'headers' is invalid");
      for (let i = 0; i < headers.length; i += 2) addHeader(head, String(headers[i]), headers[i + 1], true);
    }
  } else if (typeof headers === 'object') {
    const obj = headers as Record<string, unknown>;
    for (const key in obj) if (Object.hasOwn(obj, key)) addHeader(head, key, obj[key], true);
  }
  return head;
}
