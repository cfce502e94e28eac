// Fetch handlers: handler.fetch(request) → Response. The Request is a lazy object over the
// environ (its prototype chain includes Request.prototype): method and url are plain
// getters, Headers are built on first access, the body streams from tsgi.input, and any
// other Request member materialises a real undici Request and delegates to it.

import type { Environ } from './environ';
import { delegateMissingMembers } from './fetch-delegate';
import { EMPTY_INPUT, type TsgiInput } from './input';
import { type Exchange, ExchangeState } from './response';
import { undiciClass } from './undici-classes';

export interface FetchHandler {
  fetch(request: Request): Response | PromiseLike<Response>;
}
export type FetchFunction = (request: Request) => Response | PromiseLike<Response>;

/** Counters for tests and benchmarks: how often the expensive objects were built. */
export const fetchStats = { headersBuilt: 0, requestsMaterialized: 0, bodyStreams: 0, responsesMaterialized: 0 };

const kEnv = Symbol('tsgi.environ');
const kInput = Symbol('tsgi.input');
const kExchange = Symbol('tsgi.exchange');
const kUrl = Symbol('tsgi.url');
const kHeaders = Symbol('tsgi.headers');
const kReal = Symbol('tsgi.request');
const kController = Symbol('tsgi.abortController');
const kUsed = Symbol('tsgi.bodyUsed');
const kBody = Symbol('tsgi.body');

/** undici's classes, whatever the globals hold (fetch-globals.ts and fetch-lazy.ts replace them). */
const GlobalHeaders: typeof Headers = undiciClass('Headers');
export const GlobalRequest: typeof Request = undiciClass('Request');

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** scheme://host + request target, from the environ. */
export function requestUrl(env: Environ): string {
  const scheme = str(env['tsgi.url_scheme']) || 'http';
  let target = str(env['REQUEST_URI']);
  if (target.length > 0 && target.charCodeAt(0) !== 47 /* / */ && target.includes('://')) return target;
  if (target.length === 0) {
    target = str(env['SCRIPT_NAME']) + str(env['PATH_INFO']);
    if (target.length === 0 || target.charCodeAt(0) !== 47) target = '/' + target;
    const qs = str(env['QUERY_STRING']);
    if (qs.length > 0) target += '?' + qs;
  } else if (target.charCodeAt(0) !== 47) {
    target = '/' + target; // "*" or other odd targets still give a parseable URL
  }
  let host = str(env['HTTP_HOST']);
  if (host.length === 0) {
    host = str(env['SERVER_NAME']) || 'localhost';
    const port = str(env['SERVER_PORT']);
    if (port.length > 0 && !((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443'))) {
      host += ':' + port;
    }
  }
  return scheme + '://' + host + target;
}

/**
 * A Headers object holding the request headers carried by the environ, each once. The
 * environ has Content-Type and Content-Length twice (CGI's CONTENT_TYPE / CONTENT_LENGTH,
 * and HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH as nginx's uwsgi_params and tsgi's HTTP
 * parser also pass them); the CGI var wins, the HTTP_ one counts only without it.
 */
export function requestHeaders(env: Environ): Headers {
  fetchStats.headersBuilt++;
  const headers = new GlobalHeaders();
  for (const key in env) {
    let name: string;
    if (key.length > 5 && key.charCodeAt(0) === 72 && key.startsWith('HTTP_')) {
      if (
        key === 'HTTP_CONTENT_TYPE'
          ? nonEmpty(env['CONTENT_TYPE'])
          : key === 'HTTP_CONTENT_LENGTH' && nonEmpty(env['CONTENT_LENGTH'])
      ) {
        continue;
      }
      name = key.slice(5).toLowerCase().replaceAll('_', '-');
    } else if (key === 'CONTENT_TYPE') {
      name = 'content-type';
    } else if (key === 'CONTENT_LENGTH') {
      name = 'content-length';
    } else {
      continue;
    }
    const value = env[key];
    if (typeof value !== 'string' || (value.length === 0 && name.startsWith('content-'))) continue;
    try {
      headers.append(name, value);
    } catch {
      // A uwsgi peer can send vars that are not valid header fields; they stay in the environ.
    }
  }
  return headers;
}

function hasBody(method: string, input: TsgiInput): boolean {
  return input !== EMPTY_INPUT && method !== 'GET' && method !== 'HEAD';
}

/** A ReadableStream of the request body, pulled chunk by chunk from tsgi.input. */
function inputStream(input: TsgiInput): ReadableStream<Uint8Array> {
  fetchStats.bodyStreams++;
  let it: AsyncIterator<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        it ??= input[Symbol.asyncIterator]();
        const r = await it.next();
        if (r.done === true) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        if (it !== null && typeof it.return === 'function') await it.return();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The lazy Request handed to fetch handlers. */
export class TsgiRequest {
  [kEnv]: Environ;
  [kInput]: TsgiInput;
  [kExchange]: Exchange | null;
  [kUrl]: string | undefined = undefined;
  [kHeaders]: Headers | undefined = undefined;
  [kReal]: Request | undefined = undefined;
  [kController]: AbortController | undefined = undefined;
  [kBody]: ReadableStream<Uint8Array> | null | undefined = undefined;
  [kUsed] = false;

  constructor(env: Environ, input: TsgiInput, exchange: Exchange | null) {
    this[kEnv] = env;
    this[kInput] = input;
    this[kExchange] = exchange;
  }

  get method(): string {
    return str(this[kEnv]['REQUEST_METHOD']) || 'GET';
  }

  get url(): string {
    return (this[kUrl] ??= requestUrl(this[kEnv]));
  }

  get headers(): Headers {
    return (this[kHeaders] ??= requestHeaders(this[kEnv]));
  }

  /** Aborted when the client goes away before the response ends. */
  get signal(): AbortSignal {
    let controller = this[kController];
    if (controller === undefined) {
      controller = this[kController] = new AbortController();
      const ex = this[kExchange];
      if (ex !== null && (ex.state === ExchangeState.Aborted || ex.peerShutdown)) {
        controller.abort(new Error('client closed the connection'));
      }
    }
    return controller.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    const real = this[kReal];
    if (real !== undefined) return real.body;
    let body = this[kBody];
    if (body === undefined) {
      body = this[kBody] = hasBody(this.method, this[kInput]) ? inputStream(this[kInput]) : null;
    }
    return body;
  }

  get bodyUsed(): boolean {
    const real = this[kReal];
    if (real !== undefined) return real.bodyUsed;
    const body = this[kBody];
    return this[kUsed] || body?.locked === true;
  }

  /** Claims tsgi.input for a whole-body read (the body stream was never touched). */
  private consume(): TsgiInput {
    if (this[kUsed]) throw new TypeError('Body is unusable: Body has already been read');
    this[kUsed] = true;
    return this[kInput];
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const real = this[kReal];
    if (real !== undefined || this[kBody]) return materialize(this).arrayBuffer();
    const input = this.consume();
    if (!hasBody(this.method, input)) return new ArrayBuffer(0);
    return input.arrayBuffer();
  }

  async text(): Promise<string> {
    const real = this[kReal];
    if (real !== undefined || this[kBody]) return materialize(this).text();
    const input = this.consume();
    if (!hasBody(this.method, input)) return '';
    return input.text();
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    const type = str(this[kEnv]['CONTENT_TYPE']);
    return new Blob([await this.arrayBuffer()], type.length > 0 ? { type } : undefined);
  }

  async formData(): Promise<FormData> {
    return materialize(this).formData();
  }

  clone(): Request {
    return materialize(this).clone();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return { method: this.method, url: this.url, lazy: this[kReal] === undefined };
  }
}

/** Fires the request's abort signal (the client went away). */
export function abortRequest(req: TsgiRequest): void {
  const controller = req[kController];
  if (controller !== undefined && !controller.signal.aborted)
    controller.abort(new Error('client closed the connection'));
}

/** Builds (once) the real undici Request a lazy request stands for. */
export function materialize(req: TsgiRequest): Request {
  let real = req[kReal];
  if (real !== undefined) return real;
  fetchStats.requestsMaterialized++;
  const method = req.method;
  const init: RequestInit & { duplex?: 'half' } = { method, headers: req.headers };
  if (req[kController] !== undefined) init.signal = req[kController].signal;
  if (hasBody(method, req[kInput])) {
    if (req[kUsed]) throw new TypeError('Body is unusable: Body has already been read');
    init.body = req.body;
    init.duplex = 'half';
  }
  real = req[kReal] = new GlobalRequest(req.url, init);
  return real;
}

// The prototype chain includes Request.prototype (instanceof Request holds); members not
// implemented above delegate to a materialised real Request.
Object.setPrototypeOf(TsgiRequest.prototype, GlobalRequest.prototype);
delegateMissingMembers<TsgiRequest>(TsgiRequest.prototype, GlobalRequest.prototype, materialize);
