// `req` of a node:http app: a real http.IncomingMessage (a Readable) filled from the environ
// and, over HTTP, the raw header lines the core delivers for node:http apps. node's own
// `headers` getter builds the object from rawHeaders on first access; the body
// is pushed from the native input only once the app starts reading (the stream's _read), so
// a request whose body nobody reads costs no stream work.

import { IncomingMessage } from 'node:http';
import type { Environ } from '../environ';
import { headersFromEnviron } from './headers';
import { delegateToTsgi } from './patch';
import type { NodeSocket, SocketOwner } from './socket';

/** What the request needs from its exchange. */
export interface RequestOwner extends SocketOwner {
  /** The app started reading: push what is buffered, resume native reading if paused. */
  bodyRead(req: NodeRequest): void;
}

function versionOf(protocol: unknown): [string, number, number] {
  if (protocol === 'HTTP/1.1') return ['1.1', 1, 1];
  if (protocol === 'HTTP/1.0') return ['1.0', 1, 0];
  const m = typeof protocol === 'string' ? /^HTTP\/(\d)\.(\d)$/.exec(protocol) : null;
  return m !== null ? [m[1] + '.' + m[2], Number(m[1]), Number(m[2])] : ['1.1', 1, 1];
}

/** REQUEST_URI, else SCRIPT_NAME + PATH_INFO [+ ? QUERY_STRING] (a uwsgi peer may omit it). */
export function requestTarget(env: Environ): string {
  const uri = env['REQUEST_URI'];
  if (typeof uri === 'string' && uri.length > 0) return uri;
  const path = String(env['SCRIPT_NAME'] ?? '') + String(env['PATH_INFO'] ?? '');
  const qs = env['QUERY_STRING'];
  return (path.length > 0 ? path : '/') + (typeof qs === 'string' && qs.length > 0 ? '?' + qs : '');
}

// node's `headers` getter returns this private table once set (lib/_http_incoming.js), and
// builds it from rawHeaders up to kHeadersCount otherwise.
function privateSymbol(name: string): symbol {
  const sym = Object.getOwnPropertySymbols(new IncomingMessage(null as never)).find((s) => s.description === name);
  if (sym === undefined) throw new Error(`node:http IncomingMessage has no ${name}: unsupported Node.js version`);
  return sym;
}
const kHeaders = privateSymbol('kHeaders');
const kHeadersCount = privateSymbol('kHeadersCount');

export class NodeRequest extends IncomingMessage {
  declare tsgiOwner: RequestOwner;
  /** node:http's "the app started reading" flag (lib/_http_incoming.js). */
  declare _consuming: boolean;

  /**
   * `rawHeaders`: the header lines as the client sent them (HTTP with the core's raw lines);
   * node's own `headers` getter then applies its duplicate rules to them on first access.
   * Without them (uwsgi, where only the vars exist), both are rebuilt from the environ.
   */
  constructor(
    owner: RequestOwner,
    env: Environ,
    bodyComplete: boolean,
    socket: NodeSocket,
    rawHeaders: string[] | null = null,
  ) {
    super(socket as never);
    this.tsgiOwner = owner;
    this.method = String(env['REQUEST_METHOD'] ?? 'GET');
    this.url = requestTarget(env);
    const [version, major, minor] = versionOf(env['SERVER_PROTOCOL']);
    this.httpVersion = version;
    this.httpVersionMajor = major;
    this.httpVersionMinor = minor;
    this.complete = bodyComplete;
    const self = this as unknown as Record<symbol, unknown>;
    if (rawHeaders !== null) {
      this.rawHeaders = rawHeaders;
      self[kHeadersCount] = rawHeaders.length;
      return;
    }
    const raw = this.rawHeaders;
    self[kHeaders] = headersFromEnviron(env, raw);
    self[kHeadersCount] = raw.length;
  }

  override _read(): void {
    if (!this._consuming) this._consuming = true;
    this.tsgiOwner.bodyRead(this);
  }

  /**
   * node:http's rule: destroying a request whose body was not complete marks it aborted and
   * emits 'aborted'; the error reaches 'error' only when someone listens. An app that
   * destroys its request mid-body closes the connection, as destroying node's socket would.
   */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.readableEnded || !this.complete) {
      this.aborted = true;
      this.emit('aborted');
      this.tsgiOwner.destroyFromApp(err ?? undefined);
    }
    process.nextTick(() => cb(this.listenerCount('error') === 0 ? null : err));
  }
}

// See the note in response.ts: Express moves requests off this prototype.
delegateToTsgi(IncomingMessage.prototype, NodeRequest.prototype, ['_read', '_destroy']);
