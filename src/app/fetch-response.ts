// The Response class fetch apps construct under tsgi. `new Response(string | bytes | null |
// ReadableStream | Blob, init)` keeps its parts (status, body, the header init already
// rendered into "Name: value\r\n" lines) without building undici's Response, Headers or body
// stream, so the fetch exchange can hand them to transport.respond() as they are. Everything
// else (`.body`, `.text()`, `.clone()`, ...) builds the real undici Response once, from the
// same parts, and delegates to it. The idea is @hono/node-server's lightweight Response
// (node_modules/@hono/node-server/dist/index.mjs, "src/response.ts"); this one also keeps the
// rendered header block, so the common answer costs one string concatenation per header.

import { fetchStats } from './fetch';
import { delegateMissingMembers } from './fetch-delegate';
import { type RenderedHeaders, renderHeaderInit, TEXT_PLAIN_UTF8 } from './fetch-headers';
import { undiciClass } from './undici-classes';

/** undici's classes, whatever the globals hold (fetch-globals.ts and fetch-lazy.ts replace them). */
export const GlobalResponse: typeof Response = undiciClass('Response');
export const GlobalHeaders: typeof Headers = undiciClass('Headers');

/** What the body of a lightweight Response is. */
export const enum BodyKind {
  None = 0,
  Text = 1,
  Bytes = 2,
  Stream = 3,
  Blob = 4,
  /** The real Response was built: use `realResponse()`. */
  Materialized = 5,
}

const kKind = Symbol('tsgi.response.kind');
const kStatus = Symbol('tsgi.response.status');
const kStatusText = Symbol('tsgi.response.statusText');
const kBody = Symbol('tsgi.response.body');
const kInit = Symbol('tsgi.response.headersInit');
const kRendered = Symbol('tsgi.response.rendered');
const kHeaders = Symbol('tsgi.response.headers');
const kReal = Symbol('tsgi.response.real');

type LightBody = string | Uint8Array | ReadableStream<unknown> | Blob | null;

/** 101, 103, 204, 205, 304: statuses whose Response may not have a body (Fetch standard). */
function nullBodyStatus(s: number): boolean {
  return s === 204 || s === 304 || s === 205 || s === 101 || s === 103;
}

/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 section 4). */
function validStatusText(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

function bodyKind(body: unknown): BodyKind | -1 {
  if (body === null || body === undefined) return BodyKind.None;
  if (typeof body === 'string') return BodyKind.Text;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return BodyKind.Bytes;
  if (body instanceof ReadableStream) return body.locked ? -1 : BodyKind.Stream;
  if (body instanceof Blob) return BodyKind.Blob;
  return -1; // FormData, URLSearchParams, async iterables...: undici builds those
}

function asBytes(body: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

export class TsgiResponse {
  [kKind]: BodyKind;
  [kStatus]: number;
  [kStatusText]: string;
  [kBody]: LightBody;
  [kInit]: unknown;
  [kRendered]: RenderedHeaders | null;
  [kHeaders]: Headers | undefined;
  [kReal]: Response | undefined;

  static [Symbol.hasInstance](v: unknown): boolean {
    // Real undici Responses (from fetch(), Response.error(), ...) are Responses too.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was called on
    if (this === TsgiResponse) return v instanceof GlobalResponse;
    // biome-ignore lint/complexity/noThisInStatic: a subclass keeps the ordinary prototype check
    return Function.prototype[Symbol.hasInstance].call(this, v);
  }

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    let status: unknown = 200;
    let text: unknown = '';
    let headers: unknown;
    if (init !== undefined && init !== null) {
      if (typeof init === 'object') {
        status = init.status ?? 200;
        text = init.statusText ?? '';
        headers = init.headers;
      } else {
        status = undefined; // undici throws the TypeError below
      }
    }
    const kind = bodyKind(body);
    let rendered: RenderedHeaders | null = null;
    if (
      kind !== -1 &&
      typeof status === 'number' &&
      Number.isInteger(status) &&
      status >= 200 &&
      status <= 599 &&
      typeof text === 'string' &&
      validStatusText(text) &&
      !(kind !== BodyKind.None && nullBodyStatus(status)) &&
      (headers === undefined || headers === null || typeof headers === 'object') &&
      (headers instanceof GlobalHeaders || (rendered = renderHeaderInit(headers)) !== null)
    ) {
      this[kKind] = kind;
      this[kStatus] = status;
      this[kStatusText] = text;
      this[kBody] =
        kind === BodyKind.Bytes ? asBytes(body as ArrayBuffer | ArrayBufferView) : ((body ?? null) as LightBody);
      this[kInit] = headers;
      this[kRendered] = rendered;
      this[kHeaders] = undefined;
      this[kReal] = undefined;
      return;
    }
    // Anything else is built by undici, which also throws undici's errors for bad input.
    this[kKind] = BodyKind.Materialized;
    this[kStatus] = 0;
    this[kStatusText] = '';
    this[kBody] = null;
    this[kInit] = undefined;
    this[kRendered] = null;
    this[kHeaders] = undefined;
    fetchStats.responsesMaterialized++;
    this[kReal] = new GlobalResponse(body, init);
  }

  get status(): number {
    const real = this[kReal];
    return real !== undefined ? real.status : this[kStatus];
  }

  get statusText(): string {
    const real = this[kReal];
    return real !== undefined ? real.statusText : this[kStatusText];
  }

  get ok(): boolean {
    const s = this.status;
    return s >= 200 && s <= 299;
  }

  get redirected(): boolean {
    const real = this[kReal];
    return real !== undefined ? real.redirected : false;
  }

  get type(): ResponseType {
    const real = this[kReal];
    return real !== undefined ? real.type : 'default';
  }

  get url(): string {
    const real = this[kReal];
    return real !== undefined ? real.url : '';
  }

  /** A live Headers: changes made through it are what goes out. */
  get headers(): Headers {
    const real = this[kReal];
    if (real !== undefined) return real.headers;
    let h = this[kHeaders];
    if (h === undefined) {
      const init = this[kInit];
      h = this[kHeaders] = new GlobalHeaders(init === null ? undefined : (init as HeadersInit | undefined));
      this[kRendered] = null;
      if (this[kKind] === BodyKind.Text && !h.has('content-type')) h.set('content-type', TEXT_PLAIN_UTF8);
      else if (this[kKind] === BodyKind.Blob && !h.has('content-type')) {
        const type = (this[kBody] as Blob).type;
        if (type.length > 0) h.set('content-type', type);
      }
    }
    return h;
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError('Response.json: the data is not JSON serializable');
    const given = init?.headers;
    let headers: HeadersInit;
    if (given === undefined || given === null) {
      headers = { 'content-type': 'application/json' };
    } else {
      const h = new GlobalHeaders(given);
      if (!h.has('content-type')) h.set('content-type', 'application/json');
      headers = h;
    }
    return new TsgiResponse(body, {
      status: init?.status ?? 200,
      statusText: init?.statusText ?? '',
      headers,
    }) as unknown as Response;
  }

  static redirect(url: string | URL, status = 302): Response {
    if (status !== 301 && status !== 302 && status !== 303 && status !== 307 && status !== 308) {
      throw new RangeError('Response.redirect: invalid status code ' + String(status));
    }
    let href: string;
    try {
      href = new URL(String(url)).href;
    } catch (cause) {
      throw new TypeError('Response.redirect: failed to parse URL from ' + String(url), { cause });
    }
    return new TsgiResponse(null, { status, headers: { location: href } }) as unknown as Response;
  }

  static error(): Response {
    return GlobalResponse.error();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
      lightweight: this[kReal] === undefined,
    };
  }
}

/** Builds (once) the undici Response a lightweight one stands for; later reads go to it. */
export function realResponse(res: TsgiResponse): Response {
  let real = res[kReal];
  if (real !== undefined) return real;
  const headers = res.headers; // carries the default Content-Type the wire would get
  fetchStats.responsesMaterialized++;
  real = res[kReal] = new GlobalResponse(res[kBody] as BodyInit | null, {
    status: res[kStatus],
    statusText: res[kStatusText],
    headers,
  });
  res[kKind] = BodyKind.Materialized;
  res[kBody] = null;
  res[kHeaders] = undefined;
  return real;
}

/** The parts of a lightweight Response, read by the fetch exchange. */
export interface LightParts {
  kind: BodyKind;
  status: number;
  statusText: string;
  body: LightBody;
  /** The header init rendered at construction, or null: then `headers` is the live source. */
  rendered: RenderedHeaders | null;
  headers: Headers | undefined;
}

/** Is `v` a TsgiResponse (any realm-local subclass included)? */
export function isTsgiResponse(v: unknown): v is TsgiResponse {
  return typeof v === 'object' && v !== null && kKind in v;
}

export function lightKind(res: TsgiResponse): BodyKind {
  return res[kKind];
}
export function lightStatus(res: TsgiResponse): number {
  return res[kStatus];
}
export function lightStatusText(res: TsgiResponse): string {
  return res[kStatusText];
}
export function lightBody(res: TsgiResponse): LightBody {
  return res[kBody];
}
export function lightRendered(res: TsgiResponse): RenderedHeaders | null {
  return res[kRendered];
}
/** The live Headers when the app asked for `.headers` (then it is what goes out). */
export function lightHeaders(res: TsgiResponse): Headers | undefined {
  return res[kHeaders];
}
/** The header init when neither rendered nor live (a Headers passed as init). */
export function lightInit(res: TsgiResponse): unknown {
  return res[kInit];
}

// Response.prototype members not implemented above materialise the real Response and
// delegate to it (body, bodyUsed, text(), json(), arrayBuffer(), blob(), bytes(),
// formData(), clone(), ...), so code using the full API sees an undici Response.
Object.setPrototypeOf(TsgiResponse, GlobalResponse);
Object.setPrototypeOf(TsgiResponse.prototype, GlobalResponse.prototype);
delegateMissingMembers<TsgiResponse>(TsgiResponse.prototype, GlobalResponse.prototype, realResponse);
