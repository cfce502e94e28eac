// Runs a fetch handler for one request and sends its Response.
//
// The fast path: a handler that returns a lightweight Response (fetch-response.ts) with a
// string, bytes or no body is answered in the same turn with one transport.respond(), with
// no undici Headers, Response or ReadableStream built. Other bodies: a ReadableStream is read
// while its chunks are available without waiting; if it ends there, one respond(), else the
// head goes out at once and every later chunk is written as soon as it is read (server-sent
// events must not wait for the next event). Real undici Responses (from fetch(), or built
// because the app used the full API) take the same stream path.

import type { Transport } from '../native/types';
import { ResponseFlags } from '../native/types';
import type { Environ } from './environ';
import { abortRequest, type FetchFunction, TsgiRequest } from './fetch';
import { type RenderedHeaders, renderHeaders, TEXT_PLAIN_UTF8 } from './fetch-headers';
import {
  BodyKind,
  GlobalResponse,
  isTsgiResponse,
  lightBody,
  lightHeaders,
  lightInit,
  lightKind,
  lightRendered,
  lightStatus,
  lightStatusText,
  realResponse,
  type TsgiResponse,
} from './fetch-response';
import type { Input, TsgiInput } from './input';
import { Exchange, ExchangeState, type Registry } from './response';
import { normalizeStatus, statusText } from './status';

type Chunk = Uint8Array | string;

/** Bytes of a stream gathered into one respond() before the head is sent anyway. */
const GATHER_LIMIT = 64 * 1024;

function checkChunk(v: unknown): Chunk {
  if (v instanceof Uint8Array || typeof v === 'string') return v;
  throw new TypeError('Response body chunks must be Uint8Arrays or strings, got ' + (v === null ? 'null' : typeof v));
}

function chunkLength(c: Chunk): number {
  return typeof c === 'string' ? c.length : c.byteLength;
}

function join(chunks: Chunk[]): Chunk | undefined {
  if (chunks.length === 0) return undefined;
  if (chunks.length === 1) return chunks[0];
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

interface ResponseLike {
  status: number;
  statusText?: string;
  headers: Pick<Headers, 'forEach'> & { getSetCookie?: () => string[] };
  body: ReadableStream<unknown> | null;
}

function isResponseLike(v: unknown): v is ResponseLike {
  if (v instanceof GlobalResponse) return true;
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<ResponseLike>;
  return (
    typeof r.status === 'number' &&
    typeof r.headers === 'object' &&
    r.headers !== null &&
    typeof r.headers.forEach === 'function'
  );
}

/** Status lines by code, built once: '200 OK'. */
const STATUS_LINES: string[] = [];

/** '200 OK' from status + statusText (a missing or unsafe statusText gets the standard one). */
function statusLine(code: number, text: string | undefined): string {
  if (typeof text === 'string' && text.length > 0) {
    const line = normalizeStatus(code + ' ' + text);
    if (line !== null) return line;
  }
  if (Number.isInteger(code) && code >= 100 && code <= 999) return (STATUS_LINES[code] ??= statusText(code));
  throw new RangeError('invalid Response status ' + String(code));
}

/** Resolves to the read's result if it is ready within a few microtasks, else undefined. */
function readNow<T>(read: Promise<T>): Promise<T | undefined> {
  return Promise.race([read, Promise.resolve().then(() => Promise.resolve(undefined))]);
}

export class FetchExchange extends Exchange {
  private request: TsgiRequest | null = null;
  private reader: ReadableStreamDefaultReader<unknown> | null = null;
  private readonly isHead: boolean;

  constructor(id: number, transport: Transport, input: Input | null, registry: Registry, env: Environ) {
    super(id, transport, input, registry, String(env['REQUEST_METHOD'] ?? '-'), String(env['REQUEST_URI'] ?? '-'));
    this.isHead = env['REQUEST_METHOD'] === 'HEAD';
  }

  run(handler: FetchFunction, thisArg: unknown, env: Environ): void {
    const req = (this.request = new TsgiRequest(env, env['tsgi.input'] as TsgiInput, this));
    let result: unknown;
    try {
      result = handler.call(thisArg, req as unknown as Request);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (
      !isTsgiResponse(result) &&
      result !== null &&
      typeof result === 'object' &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    ) {
      (result as PromiseLike<unknown>).then(
        (res) => this.send(res),
        (err) => this.fail(err),
      );
    } else {
      this.send(result);
    }
  }

  private send(res: unknown): void {
    if (this.state >= ExchangeState.Done) return;
    try {
      if (isTsgiResponse(res)) {
        const kind = lightKind(res);
        if (kind !== BodyKind.Materialized) {
          this.sendLight(res, kind);
          return;
        }
        res = realResponse(res);
      }
      if (!isResponseLike(res)) {
        throw new TypeError('fetch handler returned ' + (res === null ? 'null' : typeof res) + '; expected a Response');
      }
      const status = statusLine(res.status, res.statusText);
      const h = renderHeaders(res.headers);
      this.sendStream(status, h.block, h.flags, res.body ?? null);
    } catch (err) {
      this.cancelReader(err);
      this.fail(err);
    }
  }

  private sendLight(res: TsgiResponse, kind: BodyKind): void {
    const status = statusLine(lightStatus(res), lightStatusText(res));
    let h: RenderedHeaders | null = lightRendered(res);
    if (h === null) h = renderHeaders(lightHeaders(res) ?? (lightInit(res) as Headers));
    let block = h.block;
    const body = lightBody(res);
    switch (kind) {
      case BodyKind.Text:
        if (!h.hasContentType) block += 'Content-Type: ' + TEXT_PLAIN_UTF8 + '\r\n';
        this.respondWhole(status, block, h.flags, body as string);
        return;
      case BodyKind.Bytes:
        this.respondWhole(status, block, h.flags, body as Uint8Array);
        return;
      case BodyKind.Blob: {
        const blob = body as Blob;
        if (!h.hasContentType && blob.type.length > 0) block += 'Content-Type: ' + blob.type + '\r\n';
        const flags = h.flags;
        blob.arrayBuffer().then(
          (ab) => {
            if (this.state < ExchangeState.Done) this.respondWhole(status, block, flags, new Uint8Array(ab));
          },
          (err) => this.fail(err),
        );
        return;
      }
      case BodyKind.Stream:
        this.sendStream(status, block, h.flags, body as ReadableStream<unknown>);
        return;
      default:
        this.respondEmpty(status, block, h.flags);
    }
  }

  /**
   * A response without a body. To a HEAD request the length a GET would get is unknown here,
   * so no Content-Length is sent rather than a wrong "0" (RFC 9110 section 9.3.2).
   */
  private respondEmpty(status: string, headers: string, flags: number): void {
    if (this.isHead) flags |= ResponseFlags.HasContentLength;
    this.respondWhole(status, headers, flags);
  }

  private sendStream(status: string, headers: string, flags: number, body: ReadableStream<unknown> | null): void {
    if (body === null) {
      this.respondEmpty(status, headers, flags);
      return;
    }
    if (this.isHead) {
      // HEAD never sends the body: don't run a stream that might never end (SSE).
      body.cancel().then(undefined, () => {});
      this.respondEmpty(status, headers, flags);
      return;
    }
    this.reader = body.getReader();
    this.pump(status, headers, flags).then(undefined, (err) => {
      this.cancelReader(err);
      this.fail(err);
    });
  }

  private async pump(status: string, headers: string, flags: number): Promise<void> {
    const reader = this.reader!;
    const chunks: Chunk[] = [];
    let size = 0;
    let pending: Promise<ReadableStreamReadResult<unknown>> | null = null;
    for (;;) {
      const read = reader.read();
      const r = await readNow(read);
      if (this.state >= ExchangeState.Done) return;
      if (r === undefined) {
        pending = read;
        break;
      }
      if (r.done === true) {
        this.reader = null;
        this.respondWhole(status, headers, flags, join(chunks));
        return;
      }
      const chunk = checkChunk(r.value);
      if (chunkLength(chunk) > 0) {
        chunks.push(chunk);
        size += chunkLength(chunk);
        if (size >= GATHER_LIMIT) break;
      }
    }
    this.writeHead(status, headers, flags);
    const first = join(chunks);
    let ok = first === undefined ? true : this.writeBody(first);
    for (;;) {
      if (!ok) {
        await this.drained();
        if (this.state >= ExchangeState.Done) return;
      }
      const r = await (pending ?? reader.read());
      pending = null;
      if (this.state >= ExchangeState.Done) return;
      if (r.done === true) break;
      const chunk = checkChunk(r.value);
      ok = chunkLength(chunk) > 0 ? this.writeBody(chunk) : true;
    }
    this.reader = null;
    this.endBody();
  }

  private cancelReader(reason: unknown): void {
    const reader = this.reader;
    this.reader = null;
    if (reader !== null) reader.cancel(reason).then(undefined, () => {});
  }

  override handlePeerShutdown(): void {
    super.handlePeerShutdown();
    const req = this.request;
    if (req !== null) abortRequest(req);
  }

  protected abandon(): void {
    this.cancelReader(new Error('client closed the connection'));
    const req = this.request;
    if (req !== null) abortRequest(req);
  }
}
