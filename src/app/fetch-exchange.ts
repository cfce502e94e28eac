// Runs a fetch handler for one request and sends its Response: status, headers (every
// Set-Cookie kept), and the body: a body that arrives as one chunk goes out in one
// transport.respond call; longer bodies stream with back-pressure.

import type { Transport } from '../native/types';
import type { Environ } from './environ';
import type { Input, TsgiInput } from './input';
import { checkHeaderName, checkHeaderValue, Exchange, ExchangeState, headerFlags, type Registry } from './response';
import { normalizeStatus } from './status';
import { abortRequest, TsgiRequest, type FetchFunction } from './fetch';

type Chunk = Uint8Array | string;

function checkChunk(v: unknown): Chunk {
  if (v instanceof Uint8Array || typeof v === 'string') return v;
  throw new TypeError('Response body chunks must be Uint8Arrays or strings, got ' + (v === null ? 'null' : typeof v));
}

interface ResponseLike {
  status: number;
  statusText?: string;
  headers: Headers;
  body: ReadableStream<unknown> | null;
}

function isResponseLike(v: unknown): v is ResponseLike {
  if (v instanceof Response) return true;
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<ResponseLike>;
  return typeof r.status === 'number' && typeof r.headers === 'object' && r.headers !== null && typeof r.headers.forEach === 'function';
}

export class FetchExchange extends Exchange {
  private request: TsgiRequest | null = null;
  private reader: ReadableStreamDefaultReader<unknown> | null = null;

  constructor(id: number, transport: Transport, input: Input | null, registry: Registry, env: Environ) {
    super(id, transport, input, registry, String(env['REQUEST_METHOD'] ?? '-'), String(env['REQUEST_URI'] ?? '-'));
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
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (res) => void this.send(res),
        (err) => this.fail(err),
      );
    } else {
      void this.send(result);
    }
  }

  private async send(res: unknown): Promise<void> {
    if (this.state >= ExchangeState.Done) return;
    try {
      if (!isResponseLike(res)) {
        throw new TypeError('fetch handler returned ' + (res === null ? 'null' : typeof res) + '; expected a Response');
      }
      const status = responseStatus(res);
      let headers = '';
      let flags = 0;
      let bad: string | null = null;
      res.headers.forEach((value, name) => {
        if (bad !== null || name.toLowerCase() === 'set-cookie') return;
        bad = checkHeaderName(name) ?? checkHeaderValue(name, value);
        flags |= headerFlags(name, value);
        headers += name + ': ' + value + '\r\n';
      });
      if (typeof res.headers.getSetCookie === 'function') {
        for (const cookie of res.headers.getSetCookie()) {
          bad ??= checkHeaderValue('set-cookie', cookie);
          headers += 'set-cookie: ' + cookie + '\r\n';
        }
      }
      if (bad !== null) throw new TypeError('invalid response headers: ' + bad);

      const body = res.body;
      if (body === null || body === undefined) {
        this.respondWhole(status, headers, flags);
        return;
      }
      const reader = (this.reader = body.getReader());
      const first = await reader.read();
      if (this.state >= ExchangeState.Done) return;
      if (first.done === true) {
        this.reader = null;
        this.respondWhole(status, headers, flags);
        return;
      }
      const firstChunk = checkChunk(first.value);
      const second = await reader.read();
      if (this.state >= ExchangeState.Done) return;
      if (second.done === true) {
        this.reader = null;
        this.respondWhole(status, headers, flags, firstChunk);
        return;
      }
      this.writeHead(status, headers, flags);
      let ok = this.writeBody(firstChunk);
      let chunk = checkChunk(second.value);
      for (;;) {
        if (!ok) {
          await this.drained();
          if (this.state >= ExchangeState.Done) return;
        }
        ok = this.writeBody(chunk);
        const next = await reader.read();
        if (this.state >= ExchangeState.Done) return;
        if (next.done === true) break;
        chunk = checkChunk(next.value);
      }
      this.reader = null;
      this.endBody();
    } catch (err) {
      this.cancelReader(err);
      this.fail(err);
    }
  }

  private cancelReader(reason: unknown): void {
    const reader = this.reader;
    this.reader = null;
    if (reader !== null) reader.cancel(reason).then(undefined, () => {});
  }

  protected abandon(): void {
    this.cancelReader(new Error('client closed the connection'));
    const req = this.request;
    if (req !== null) abortRequest(req);
  }
}

/** '200 OK' from status + statusText (a missing or unsafe statusText gets the standard one). */
function responseStatus(res: ResponseLike): string {
  const code = res.status;
  const text = res.statusText;
  if (typeof text === 'string' && text.length > 0) {
    const line = normalizeStatus(code + ' ' + text);
    if (line !== null) return line;
  }
  const line = normalizeStatus(code);
  if (line === null) throw new RangeError('invalid Response status ' + String(code));
  return line;
}
