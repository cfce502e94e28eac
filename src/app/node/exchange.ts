// One request of a node:http app: builds `req` and `res`, calls the handler, and carries
// what they do to the Transport. The first body chunk is held until the end of the current
// microtask queue so writeHead + write + end (Fastify's way) is still one native respond().

import type { Transport } from '../../native/types';
import type { Environ } from '../environ';
import { INPUT_HIGH_WATER_MARK, inputErrorFor } from '../input';
import { Exchange, ExchangeState, type Registry } from '../response';
import type { NodeHead } from './headers';
import { NodeRequest, type RequestOwner } from './request';
import { NodeResponse, type ResponseOwner, responseAborted, responseDrained } from './response';
import { NodeSocket } from './socket';

export type NodeHandler = (req: NodeRequest, res: NodeResponse) => unknown;

type Chunk = string | Uint8Array;

function concat(a: Chunk, b: Chunk): Chunk {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  return Buffer.concat([typeof a === 'string' ? Buffer.from(a) : a, typeof b === 'string' ? Buffer.from(b) : b]);
}

/** What node:http destroys a request with when its client goes away. */
function connectionReset(): Error {
  const err = new Error('aborted') as Error & { code: string };
  err.code = 'ECONNRESET';
  return err;
}

// Exchanges holding a first chunk, flushed by one microtask per batch of requests.
let holding: NodeExchange[] = [];

function flushHolding(): void {
  const list = holding;
  holding = [];
  for (let i = 0; i < list.length; i++) list[i]!.flushHeld();
}

export class NodeExchange extends Exchange implements RequestOwner, ResponseOwner {
  readonly socket: NodeSocket;
  readonly req: NodeRequest;
  readonly res: NodeResponse;
  private status = '';
  private headers = '';
  private flags = 0;
  /** The head has a `Trailer` field: the body goes out chunked even when whole (node:http). */
  private trailerField = false;
  /** The first body chunk, held so a response completed in the same turn is one respond(). */
  private held: Chunk | null = null;
  // ---- the request body ----
  /** Chunks received before the app started reading (the stream is filled lazily). */
  private pending: Uint8Array[] | null = null;
  private pendingBytes = 0;
  private bodyEnded: boolean;
  private bodyFailed = false;
  private reading = false;
  private inputPaused = false;
  /** The response ended before the app read the body: drop it (node:http's req._dump()). */
  private dumped = false;
  /** Why the connection went away, for `req`'s 'error' (node: ECONNRESET "aborted"). */
  private abortError: Error | undefined = undefined;

  constructor(
    id: number,
    transport: Transport,
    registry: Registry,
    readonly env: Environ,
    body: Uint8Array | undefined,
    bodyDone: boolean,
    rawHeaders: string[] | null = null,
  ) {
    super(id, transport, null, registry, String(env['REQUEST_METHOD'] ?? '-'), String(env['REQUEST_URI'] ?? '-'));
    this.bodyEnded = bodyDone;
    if (body !== undefined && body.byteLength > 0) {
      this.pending = [body];
      this.pendingBytes = body.byteLength;
    }
    this.socket = new NodeSocket(this);
    this.req = new NodeRequest(this, env, bodyDone, this.socket, rawHeaders);
    this.res = new NodeResponse(this.req, this);
  }

  override get released(): boolean {
    return this.state >= ExchangeState.Done && (this.bodyEnded || this.bodyFailed);
  }

  run(handler: NodeHandler): void {
    try {
      handler(this.req, this.res);
    } catch (err) {
      this.fail(err);
    }
  }

  // ---- response (ResponseOwner) ---------------------------------------------------------

  setHead(status: string, head: NodeHead): void {
    this.status = status;
    this.headers = head.headers;
    this.flags = head.flags;
    this.trailerField = head.hasTrailer;
  }

  private startStream(): void {
    this.writeHead(this.status, this.headers, this.flags);
    const held = this.held;
    if (held !== null) {
      this.held = null;
      if (!this.writeBody(held)) this.res.tsgiNeedDrain = true;
    }
  }

  writeChunk(chunk: Chunk): boolean {
    const state = this.state;
    if (state === ExchangeState.Idle) {
      if (this.held === null) {
        if (chunk.length === 0) {
          this.startStream();
          return true;
        }
        this.held = chunk;
        if (holding.push(this) === 1) queueMicrotask(flushHolding);
        return true;
      }
      this.startStream();
    } else if (state !== ExchangeState.Streaming) {
      return false;
    }
    if (chunk.length === 0) return true;
    return this.writeBody(chunk);
  }

  /** A held chunk not followed by end() in the same turn is sent as the start of a stream. */
  flushHeld(): void {
    if (this.held !== null && this.state === ExchangeState.Idle) this.startStream();
  }

  /**
   * Trailers follow node:http's framing: a response whose head was sent before end() (a
   * write, here a held chunk) or that has a `Trailer` field is chunked and gets them; one
   * ended at once gets a Content-Length, and node drops them there.
   */
  endResponse(chunk: Chunk | undefined, trailers: string): void {
    if (this.state === ExchangeState.Idle) {
      const held = this.held;
      this.held = null;
      const body = held === null ? chunk : chunk === undefined ? held : concat(held, chunk);
      if (this.trailerField || (held !== null && trailers.length > 0)) {
        this.writeHead(this.status, this.headers, this.flags);
        this.endBody(body, trailers);
      } else {
        this.respondWhole(this.status, this.headers, this.flags, body);
      }
    } else if (this.state === ExchangeState.Streaming) {
      this.endBody(chunk, trailers);
    }
    if (this.state === ExchangeState.Done && !this.reading) this.dump();
  }

  sendContinue(): void {
    if (this.state === ExchangeState.Idle) this.transport.writeContinue?.(this.id);
  }

  flushHead(): void {
    if (this.state === ExchangeState.Idle) this.startStream();
  }

  override handleDrain(): void {
    super.handleDrain();
    responseDrained(this.res);
  }

  // ---- request body (RequestOwner) ------------------------------------------------------

  bodyRead(req: NodeRequest): void {
    this.reading = true;
    const pending = this.pending;
    let ok = true;
    if (pending !== null) {
      this.pending = null;
      this.pendingBytes = 0;
      for (let i = 0; i < pending.length; i++) ok = req.push(pending[i]);
    }
    if (this.bodyEnded) {
      req.push(null);
    } else if (this.inputPaused && ok) {
      this.inputPaused = false;
      this.transport.resumeInput(this.id);
    }
  }

  /** onData from the dispatcher: a chunk, the end (null, 0) or an error (null, code). */
  body(chunk: Uint8Array | null, error: number): void {
    if (this.bodyEnded || this.bodyFailed) return;
    if (chunk !== null) {
      if (this.dumped) return;
      if (!this.reading) {
        (this.pending ??= []).push(chunk);
        this.pendingBytes += chunk.byteLength;
        if (this.pendingBytes > INPUT_HIGH_WATER_MARK) this.pauseInput();
      } else if (!this.req.push(chunk)) {
        this.pauseInput();
      }
    } else if (error === 0) {
      this.bodyEnded = true;
      this.req.complete = true;
      if (this.reading) this.req.push(null);
    } else {
      this.bodyFailed = true;
      this.pending = null;
      if (!this.dumped) this.req.destroy(inputErrorFor(error));
    }
    this.releaseIfDone();
  }

  private pauseInput(): void {
    if (this.inputPaused) return;
    this.inputPaused = true;
    this.transport.pauseInput(this.id);
  }

  /** Like req._dump(): the response is over and nobody read the body, so drop it. */
  private dump(): void {
    this.dumped = true;
    this.pending = null;
    this.pendingBytes = 0;
    if (this.inputPaused) {
      this.inputPaused = false;
      this.transport.resumeInput(this.id);
    }
  }

  // ---- the connection -------------------------------------------------------------------

  destroyFromApp(error?: Error): void {
    if (this.state < ExchangeState.Done) {
      this.state = ExchangeState.Aborted;
      this.held = null;
      this.transport.abort(this.id);
      this.closed(error);
      this.releaseIfDone();
    }
  }

  override handleAbort(error: Error): void {
    const wasActive = this.state < ExchangeState.Done;
    this.abortError = connectionReset();
    super.handleAbort(error);
    if (!this.bodyEnded && !this.bodyFailed) {
      this.bodyFailed = true;
      this.pending = null;
      if (!this.dumped && !this.req.destroyed) this.req.destroy(this.abortError);
    }
    if (!wasActive) this.socket.markClosed(false);
  }

  /**
   * The client's FIN while the app works: node:http (which does not allow half-open
   * connections) destroys the request then, so 'aborted' and 'close' fire on `req` (the
   * signal Express SSE handlers and long polls listen for). The response stays writable:
   * a half-closed client still reads what the app sends.
   */
  override handlePeerShutdown(): void {
    super.handlePeerShutdown();
    if (this.state >= ExchangeState.Done) return;
    const req = this.req;
    if (!req.destroyed && !(req.complete && req.readableEnded)) req.destroy(connectionReset());
  }

  /** The app failed after output started (base class) or the client went away. */
  protected abandon(): void {
    this.held = null;
    this.closed(this.abortError);
  }

  private closed(error: Error | undefined): void {
    const req = this.req;
    if (!req.destroyed && !(req.complete && req.readableEnded)) {
      req.destroy(error);
    }
    responseAborted(this.res);
    this.socket.markClosed(error !== undefined);
  }
}
