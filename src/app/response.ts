// The response half of a request: header validation and rendering, and `Exchange`, the
// per-request state shared by the gateway and fetch adapters (whole responses, streamed
// responses with back-pressure, 500-or-abort on errors, release from the dispatcher).

import { ResponseFlags, type Transport } from '../native/types';
import type { Input } from './input';

// ---- header validation ------------------------------------------------------------------

/** tchar (RFC 9110 section 5.6.2) by char code. */
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "!#$%&'*+-.^_`|~".includes(ch)) {
    TOKEN[c] = 1;
  }
}

/** Why a header name cannot be sent, or null when it is a valid token. */
export function checkHeaderName(name: string): string | null {
  const len = name.length;
  if (len === 0) return 'empty header name';
  for (let i = 0; i < len; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) {
      if (c === 13 || c === 10 || c === 0) return 'header name ' + JSON.stringify(name) + ' contains CR, LF or NUL';
      return 'header name ' + JSON.stringify(name) + ' is not a token';
    }
  }
  return null;
}

/**
 * Why a header value cannot be sent, or null. Allowed: HTAB, SP, visible ASCII and
 * obs-text (0x80-0xFF), i.e. RFC 9110 field-value bytes. CR, LF, NUL, other controls and
 * characters above U+00FF are refused.
 */
export function checkHeaderValue(name: string, value: string): string | null {
  for (let i = 0, len = value.length; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c >= 32 ? c === 127 || c > 255 : c !== 9) {
      if (c === 13 || c === 10 || c === 0) return 'value of header ' + JSON.stringify(name) + ' contains CR, LF or NUL';
      return 'value of header ' + JSON.stringify(name) + ' contains an invalid character (code ' + c + ')';
    }
  }
  return null;
}

/** Flag bits implied by one header (case-insensitive name checks). */
export function headerFlags(name: string, value: string): number {
  switch (name.length) {
    case 14:
      return name.toLowerCase() === 'content-length' ? ResponseFlags.HasContentLength : 0;
    case 10:
      return name.toLowerCase() === 'connection' && value.toLowerCase().includes('close')
        ? ResponseFlags.ConnectionClose
        : 0;
    case 17:
      return name.toLowerCase() === 'transfer-encoding' ? ResponseFlags.HasTransferEncoding : 0;
    default:
      return 0;
  }
}

/** Where a rendered head goes. */
export interface HeadSlot {
  headers: string;
  flags: number;
}

/**
 * Renders `[name, value]` pairs into "Name: value\r\n" lines and flags, into `out`.
 * Returns an error message (nothing written to `out`) when a pair is malformed.
 */
export function renderHeaders(headers: unknown, out: HeadSlot): string | null {
  if (headers === undefined || headers === null) {
    out.headers = '';
    out.flags = 0;
    return null;
  }
  if (!Array.isArray(headers)) {
    if (typeof headers !== 'object' || typeof (headers as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      return 'headers must be an array of [name, value] pairs';
    }
    headers = Array.from(headers as Iterable<unknown>);
  }
  const list = headers as unknown[];
  let block = '';
  let flags = 0;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    if (!Array.isArray(pair) || pair.length !== 2) return 'header #' + i + ' is not a [name, value] pair';
    const name = typeof pair[0] === 'string' ? pair[0] : String(pair[0]);
    const value = typeof pair[1] === 'string' ? pair[1] : String(pair[1]);
    const err = checkHeaderName(name) ?? checkHeaderValue(name, value);
    if (err !== null) return err;
    flags |= headerFlags(name, value);
    block += name + ': ' + value + '\r\n';
  }
  out.headers = block;
  out.flags = flags;
  return null;
}

// ---- the per-request exchange -----------------------------------------------------------

export const enum ExchangeState {
  /** Nothing sent yet. */
  Idle = 0,
  /** writeHead was called; body chunks may follow. */
  Streaming = 1,
  /** The response was completed (respond or end). */
  Done = 2,
  /** The client went away, or the response was abandoned (abort). */
  Aborted = 3,
}

const INTERNAL_ERROR_HEADERS = 'Content-Type: text/plain\r\n';
const INTERNAL_ERROR_BODY = 'Internal Server Error';

/** Where exchanges register while they still expect native callbacks. */
export type Registry = Map<number, Exchange>;

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.name + ': ' + err.message;
  try {
    return 'non-Error thrown: ' + String(err);
  } catch {
    return 'non-Error thrown';
  }
}

/** State of one request between onRequest and the end of both its response and its body. */
export abstract class Exchange {
  state: ExchangeState = ExchangeState.Idle;
  /** The client shut down its side while the app worked (handlePeerShutdown). */
  peerShutdown = false;
  /** Resumes a pump blocked on back-pressure (set while waiting for onDrain). */
  private drainCb: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    /** The streamed body, or null when the request body arrived whole (or was empty). */
    readonly input: Input | null,
    protected readonly registry: Registry,
    /** For log lines: "GET /path". */
    protected readonly method: string,
    protected readonly uri: string,
  ) {}

  /** True when nothing more is expected from native for this request. */
  get released(): boolean {
    return this.state >= ExchangeState.Done && (this.input === null || this.input.settled);
  }

  // ---- sending --------------------------------------------------------------------------

  /** Sends a whole response in one transport call. */
  protected respondWhole(status: string, headers: string, flags: number, body?: string | Uint8Array): void {
    this.transport.respond(this.id, status, headers, flags, body);
    this.finish();
  }

  protected writeHead(status: string, headers: string, flags: number): void {
    this.state = ExchangeState.Streaming;
    this.transport.writeHead(this.id, status, headers, flags);
  }

  /** Writes a chunk of a streamed response; false means wait for drain (see waitDrain). */
  protected writeBody(chunk: string | Uint8Array): boolean {
    if (this.state !== ExchangeState.Streaming) return false;
    return this.transport.write(this.id, chunk);
  }

  /** `trailers`: "Name: value\r\n" lines for after the last chunk (node:http's addTrailers). */
  protected endBody(chunk?: string | Uint8Array, trailers?: string): void {
    if (this.state !== ExchangeState.Streaming) return;
    if (trailers !== undefined && trailers.length > 0) this.transport.end(this.id, chunk, trailers);
    else if (chunk === undefined) this.transport.end(this.id);
    else this.transport.end(this.id, chunk);
    this.finish();
  }

  /** Calls `cb` once the transport drained (or at once when the exchange is over). */
  protected onceDrained(cb: () => void): void {
    if (this.state >= ExchangeState.Done) cb();
    else this.drainCb = cb;
  }

  protected drained(): Promise<void> {
    return new Promise<void>((resolve) => this.onceDrained(resolve));
  }

  /** The response is complete. */
  private finish(): void {
    this.state = ExchangeState.Done;
    if (this.input !== null) this.input.responseFinished();
    this.releaseIfDone();
  }

  /** Drops this exchange from the registry once nothing more is expected for it. */
  releaseIfDone(): void {
    if (this.released && this.registry.get(this.id) === this) this.registry.delete(this.id);
  }

  // ---- failures -------------------------------------------------------------------------

  log(line: string): void {
    const lines = line.split('\n');
    for (let i = 0; i < lines.length; i++) this.transport.log(lines[i]!);
  }

  /**
   * The app failed. Before the first byte: a 500 and the error logged with its stack; after
   * it: the connection is closed (transport.abort) and the log says so. After the exchange
   * is over (client gone): nothing to answer, the error is logged.
   */
  fail(err: unknown): void {
    const where = 'tsgi: ' + this.method + ' ' + this.uri + ': ';
    this.transport.countException?.(); // the stats' per-core and per-worker `exceptions`
    const state = this.state;
    if (state === ExchangeState.Idle) {
      this.log(where + 'app error before the response started; answered 500\n' + describe(err));
      this.respondWhole('500 Internal Server Error', INTERNAL_ERROR_HEADERS, 0, INTERNAL_ERROR_BODY);
      return;
    }
    if (state === ExchangeState.Streaming) {
      this.log(where + 'app error after the response started; connection closed\n' + describe(err));
      this.state = ExchangeState.Aborted;
      this.transport.abort(this.id);
      this.abandon();
      if (this.input !== null) this.input.responseFinished();
      this.releaseIfDone();
      return;
    }
    this.log(where + 'app error after the response ended (ignored)\n' + describe(err));
  }

  // ---- native events --------------------------------------------------------------------

  handleDrain(): void {
    const cb = this.drainCb;
    if (cb !== null) {
      this.drainCb = null;
      cb();
    }
  }

  /** The client went away: stop producing output, close iterators, fail pending reads. */
  handleAbort(error: Error): void {
    const wasActive = this.state < ExchangeState.Done;
    this.state = ExchangeState.Aborted;
    if (this.input !== null) this.input.fail(error);
    if (wasActive) this.abandon();
    this.handleDrain();
    if (this.registry.get(this.id) === this) this.registry.delete(this.id);
  }

  /**
   * The client shut down its side while the app works (a FIN). It may have closed the
   * connection altogether, which looks the same from the server: apps that watch for a gone
   * client hear of it (fetch: request.signal), and whatever the app still answers is sent.
   */
  handlePeerShutdown(): void {
    this.peerShutdown = true;
  }

  /** Subclasses release what produces output (iterators, readers, abort signals). */
  protected abstract abandon(): void;
}
