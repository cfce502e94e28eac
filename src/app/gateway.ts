// Runs a gateway callable: application(environ, startResponse), PEP 3333 carried over to
// JavaScript. Fast path: a sync startResponse and a sync string/Uint8Array return become
// one transport.respond call; everything else streams with back-pressure.

import type { Transport } from '../native/types';
import type { Environ } from './environ';
import type { Input } from './input';
import { Exchange, ExchangeState, type HeadSlot, type Registry, renderHeaders } from './response';
import { normalizeStatus } from './status';

export type Body = string | Uint8Array;
export type WriteFn = (chunk: Body) => boolean;
export type StartResponse = (status: string | number, headers?: unknown, excInfo?: unknown) => WriteFn;
export type GatewayApp = (environ: Environ, startResponse: StartResponse) => unknown;

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

function isBody(v: unknown): v is Body {
  return typeof v === 'string' || v instanceof Uint8Array;
}

function badChunk(v: unknown): TypeError {
  const what = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return new TypeError('response body chunks must be strings or Uint8Arrays, got ' + what);
}

function badReturn(v: unknown): TypeError {
  const what = v === null ? 'null' : typeof v;
  return new TypeError(
    'application returned ' +
      what +
      '; expected a string, a Uint8Array, an (async) iterable of them, or a promise of one',
  );
}

export class GatewayExchange extends Exchange implements HeadSlot {
  /** Normalised status line text, or null until startResponse succeeds. */
  status: string | null = null;
  headers = '';
  flags = 0;
  /** First chunk of a sync iterable, held back so a one-chunk body becomes one respond(). */
  private held: Body | null = null;
  private iter: AnyIterator | null = null;
  private closeable: { close?: unknown } | null = null;
  private writeFn: WriteFn | null = null;

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (this.state !== ExchangeState.Idle) {
      if (excInfo !== undefined && excInfo !== null) throw excInfo;
      throw new Error('startResponse called after the response started');
    }
    const line = normalizeStatus(status);
    if (line === null) throw new TypeError('invalid status ' + JSON.stringify(String(status)));
    const err = renderHeaders(headers, this);
    if (err !== null) throw new TypeError('invalid response headers: ' + err);
    this.status = line;
    return (this.writeFn ??= (chunk: Body) => this.appWrite(chunk));
  };

  constructor(id: number, transport: Transport, input: Input | null, registry: Registry, env: Environ) {
    super(
      id,
      transport,
      input,
      registry,
      String(env['REQUEST_METHOD'] ?? '-'),
      String(env['REQUEST_URI'] ?? env['PATH_INFO'] ?? '-'),
    );
  }

  run(app: GatewayApp, env: Environ): void {
    let result: unknown;
    try {
      result = app(env, this.startResponse);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.handleResult(result);
  }

  // ---- output ---------------------------------------------------------------------------

  /** write() as returned by startResponse. */
  private appWrite(chunk: Body): boolean {
    if (this.state >= ExchangeState.Done) return false;
    if (!isBody(chunk)) throw badChunk(chunk);
    return this.emit(chunk);
  }

  /** Sends one body chunk, starting the streamed response first when needed. */
  private emit(chunk: Body): boolean {
    if (this.state === ExchangeState.Idle) {
      if (this.status === null) throw new Error('body output before startResponse was called');
      this.writeHead(this.status, this.headers, this.flags);
      const held = this.held;
      if (held !== null) {
        this.held = null;
        this.writeBody(held);
      }
    }
    if (chunk.length === 0) return true;
    return this.writeBody(chunk);
  }

  /** The body is complete: one respond() when nothing was sent yet, else end(). */
  private complete(last?: Body): void {
    if (this.state === ExchangeState.Idle) {
      if (this.status === null) {
        this.fail(new Error('application returned without calling startResponse'));
        return;
      }
      // `held` (a sync iterable's only chunk) and `last` never both exist.
      const body = this.held ?? last;
      this.held = null;
      this.respondWhole(this.status, this.headers, this.flags, body);
    } else if (this.state === ExchangeState.Streaming) {
      this.endBody(last);
    }
  }

  private handleResult(result: unknown): void {
    if (this.state >= ExchangeState.Done) return;
    if (isBody(result)) {
      this.complete(result);
      return;
    }
    if (result === undefined || result === null) {
      this.complete();
      return;
    }
    if (typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (value) => this.handleResult(value),
        (err) => this.fail(err),
      );
      return;
    }
    if (Array.isArray(result) && result.length <= 1) {
      if (result.length === 0) this.complete();
      else if (isBody(result[0])) this.complete(result[0]);
      else this.fail(badChunk(result[0]));
      return;
    }
    if (typeof result === 'object' || typeof result === 'function') {
      if (typeof (result as { close?: unknown }).close === 'function') this.closeable = result as { close?: unknown };
      const obj = result as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
      try {
        if (typeof obj[Symbol.asyncIterator] === 'function') {
          this.iter = obj[Symbol.asyncIterator]!();
          void this.pumpAsync(this.iter as AsyncIterator<unknown>);
          return;
        }
        if (typeof obj[Symbol.iterator] === 'function') {
          this.iter = obj[Symbol.iterator]!();
          this.pumpSync(this.iter as Iterator<unknown>);
          return;
        }
      } catch (err) {
        this.fail(err);
        this.closeIterable();
        return;
      }
    }
    this.fail(badReturn(result));
  }

  /** Pulls a sync iterable until it ends or back-pressure says wait. */
  private pumpSync(it: Iterator<unknown>): void {
    try {
      for (;;) {
        if (this.state >= ExchangeState.Done) return;
        const r = it.next();
        if (r.done === true) {
          this.iter = null;
          this.complete();
          this.closeIterable();
          return;
        }
        const chunk = r.value;
        if (!isBody(chunk)) throw badChunk(chunk);
        if (this.state === ExchangeState.Idle && this.held === null) {
          if (chunk.length > 0) this.held = chunk;
          continue;
        }
        if (!this.emit(chunk)) {
          this.onceDrained(() => this.pumpSync(it));
          return;
        }
      }
    } catch (err) {
      this.fail(err);
      this.closeIterable();
    }
  }

  /** Pulls an async iterable, waiting for drain whenever write() says so. */
  private async pumpAsync(it: AsyncIterator<unknown>): Promise<void> {
    try {
      for (;;) {
        if (this.state >= ExchangeState.Done) return;
        const r = await it.next();
        if (this.state >= ExchangeState.Done) return;
        if (r.done === true) {
          this.iter = null;
          this.complete();
          this.closeIterable();
          return;
        }
        const chunk = r.value;
        if (!isBody(chunk)) throw badChunk(chunk);
        if (!this.emit(chunk)) await this.drained();
      }
    } catch (err) {
      this.fail(err);
      this.closeIterable();
    }
  }

  /** PEP 3333 close(): an unfinished iterator gets return(), the iterable close(). */
  private closeIterable(): void {
    const it = this.iter;
    this.iter = null;
    if (it !== null && typeof it.return === 'function') {
      try {
        const r = it.return();
        if (r !== undefined && typeof (r as PromiseLike<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) =>
            this.log('tsgi: closing the response iterator failed: ' + String(err)),
          );
        }
      } catch (err) {
        this.log('tsgi: closing the response iterator failed: ' + String(err));
      }
    }
    const c = this.closeable;
    this.closeable = null;
    if (c !== null) {
      try {
        (c.close as () => void)();
      } catch (err) {
        this.log('tsgi: close() of the response iterable failed: ' + String(err));
      }
    }
  }

  protected abandon(): void {
    this.held = null;
    this.closeIterable();
  }
}
