// tsgi.input: the request body as an async iterable of Uint8Array chunks with read(n?),
// text(), json() and arrayBuffer(). The dispatcher feeds it (push/end/fail); buffered bytes
// are bounded by a high-water mark, above which native reading is paused. A body of known
// length up to WHOLE_BODY_MAX arrives instead into one buffer that native fills in place
// (fill): a whole-body read then resolves to that buffer itself, with no copy and no join.

import type { Transport } from '../native/types';
import { nativeErrorName, nativeErrorReason } from './native-errors';

/** Bytes buffered before `transport.pauseInput(id)`; reading resumes below it. */
export const INPUT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Largest body read into one buffer of its length (the native `wholeBodyMax`): no more than
 * a streamed body can hold here at once (the high-water mark plus one 64 KiB native read),
 * so reading it whole, and never pausing it, costs no more memory per request.
 */
export const WHOLE_BODY_MAX = 2 * INPUT_HIGH_WATER_MARK;

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder('utf-8');

const decode = (bytes: Uint8Array): string => decoder.decode(bytes);
const parseJson = (text: string): unknown => JSON.parse(text);

/** `bytes`' own ArrayBuffer when they fill it exactly (no copy), else a copy of them. */
function ownArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

/** `parts` (`total` bytes in all) in one array with its own ArrayBuffer. */
function join(parts: readonly Uint8Array[], total: number): Uint8Array {
  // Every byte is written below, so the zero-fill of new Uint8Array(total) would be wasted;
  // allocUnsafeSlow also gives the result its own ArrayBuffer (arrayBuffer() returns it).
  const out = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** The error a body read rejects with: `code` is the stable native error name. */
export class InputError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/** Builds the InputError for a native error code delivered with onData/onAbort. */
export function inputErrorFor(code: number): InputError {
  const name = nativeErrorName(code);
  const what =
    name === 'HTTP_TRUNCATED_BODY' || name === 'IO_PEER_CLOSED'
      ? 'request body truncated'
      : name === 'HTTP_BODY_TIMEOUT'
        ? 'request body timed out'
        : 'request body failed';
  return new InputError(name, what + ': ' + nativeErrorReason(code) + ' (' + name + ')');
}

type Waiter = () => void;

/** Public face of tsgi.input. */
export interface TsgiInput extends AsyncIterable<Uint8Array> {
  read(n?: number): Promise<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export class Input implements TsgiInput {
  /** Queue of unread chunks; `head` is the index of the first one. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  private paused = false;
  private waiters: Waiter[] | null = null;
  /** True once the app called any read method (used to decide what to do with unread bodies). */
  touched = false;
  ended = false;
  error: Error | null = null;
  /** Set when the response finished while the app had not touched the body. */
  private orphaned = false;
  /**
   * The buffer native fills with the body (RequestFlags.BodyWhole), `filled` bytes so far.
   * Until `ended` native may still write into it, so neither it nor a view of it reaches
   * the app before then (take() copies): a detached or transferred buffer would leave
   * native writing into freed memory.
   */
  private whole: Uint8Array | null = null;
  private filled = 0;
  /** Bytes of `whole` were handed out by read(n) or the iterator: a whole-body read joins. */
  private wholeSplit = false;

  /** `filled` given: `body` is the whole body's buffer, of which that many bytes are here. */
  constructor(
    private readonly id: number,
    private readonly transport: Transport | null,
    body?: Uint8Array,
    done?: boolean,
    filled?: number,
  ) {
    if (body !== undefined && filled !== undefined) {
      this.whole = body;
      this.fill(filled);
    } else if (body !== undefined && body.byteLength > 0) {
      this.chunks.push(body);
      this.buffered = body.byteLength;
    }
    if (done === true) this.ended = true;
  }

  /** True when no more onData events are expected (end or error). */
  get settled(): boolean {
    return this.ended || this.error !== null;
  }

  // ---- fed by the dispatcher ------------------------------------------------------------

  push(chunk: Uint8Array): void {
    if (this.settled || chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.orphaned && this.buffered > INPUT_HIGH_WATER_MARK && !this.touched) {
      this.discard();
      return;
    }
    // A whole body is never paused: its buffer is already allocated, and pausing it would only
    // hold the app slot longer.
    if (this.buffered > INPUT_HIGH_WATER_MARK && !this.paused && this.transport !== null && this.whole === null) {
      this.paused = true;
      this.transport.pauseInput(this.id);
    }
    this.wake();
  }

  /** The whole body's buffer now holds `filled` bytes; when it is full the body has ended. */
  fill(filled: number): void {
    const whole = this.whole;
    if (whole === null || this.settled || filled <= this.filled) return;
    const from = this.filled;
    this.filled = Math.min(filled, whole.byteLength);
    this.push(whole.subarray(from, this.filled));
    if (this.filled === whole.byteLength) this.end();
  }

  end(): void {
    if (this.settled) return;
    this.ended = true;
    this.wake();
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.error = error;
    this.whole = null;
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    this.wake();
  }

  /**
   * The response has finished. A body the app never touched is not kept: once it would
   * grow past the high-water mark it is dropped and later reads reject (instead of pausing
   * the connection forever); native keeps draining it for keep-alive.
   */
  responseFinished(): void {
    if (this.settled || this.touched) return;
    this.orphaned = true;
    if (this.paused) this.discard();
  }

  private discard(): void {
    const wasPaused = this.paused;
    this.paused = false;
    this.fail(
      new InputError('TSGI_INPUT_DISCARDED', 'request body discarded: the response finished before the app read it'),
    );
    if (wasPaused && this.transport !== null) this.transport.resumeInput(this.id);
  }

  // ---- internals ----------------------------------------------------------------------

  private wake(): void {
    const waiters = this.waiters;
    if (waiters === null) return;
    this.waiters = null;
    for (let i = 0; i < waiters.length; i++) waiters[i]!();
  }

  private wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      (this.waiters ??= []).push(resolve);
    });
  }

  private consumed(n: number): void {
    this.buffered -= n;
    if (this.paused && this.buffered <= INPUT_HIGH_WATER_MARK && this.transport !== null) {
      this.paused = false;
      this.transport.resumeInput(this.id);
    }
  }

  /** Takes up to `max` bytes off the queue (at least one chunk's worth when available). */
  private take(max: number): Uint8Array {
    const chunk = this.chunks[this.head]!;
    let out: Uint8Array;
    if (chunk.byteLength <= max) {
      out = chunk;
      this.chunks[this.head++] = EMPTY;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    } else {
      out = chunk.subarray(0, max);
      this.chunks[this.head] = chunk.subarray(max);
    }
    this.consumed(out.byteLength);
    if (this.whole !== null) {
      this.wholeSplit = true;
      if (!this.ended) out = Buffer.from(out);
    }
    return out;
  }

  /**
   * Everything still queued, in one array, once the body has ended: the whole body's own
   * buffer when none of it was handed out, else the chunks joined (a lone chunk as it is).
   */
  private takeAll(): Uint8Array {
    const whole = this.whole;
    const n = this.chunks.length - this.head;
    let out: Uint8Array;
    if (whole !== null && !this.wholeSplit) out = whole;
    else if (n === 0) return EMPTY;
    else out = n === 1 ? this.chunks[this.head]! : join(this.chunks.slice(this.head), this.buffered);
    this.chunks = [];
    this.head = 0;
    this.consumed(this.buffered);
    if (whole !== null) this.wholeSplit = true;
    return out;
  }

  /** A whole body, once native has filled it (it is never paused, so waiting is safe). */
  private async settledWhole(): Promise<Uint8Array> {
    while (!this.settled) await this.wait();
    if (this.error !== null) throw this.error;
    return this.takeAll();
  }

  /** Resolves when a chunk is available or the body is over; rejects on error. */
  private async nextChunk(max: number): Promise<Uint8Array | null> {
    for (;;) {
      if (this.error !== null) throw this.error;
      if (this.buffered > 0) return this.take(max);
      if (this.ended) return null;
      await this.wait();
    }
  }

  /** Everything that is left; a body already here (or read whole) needs no await at all. */
  private readAll(): Promise<Uint8Array> {
    this.touched = true;
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(this.takeAll());
    if (this.whole !== null) return this.settledWhole();
    return this.gatherAll();
  }

  /** A streamed body, taken chunk by chunk as it comes (so its input is never left paused). */
  private async gatherAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = await this.nextChunk(Infinity);
      if (chunk === null) break;
      parts.push(chunk);
      total += chunk.byteLength;
    }
    if (parts.length === 0) return EMPTY;
    return parts.length === 1 ? parts[0]! : join(parts, total);
  }

  // ---- the app-facing API -------------------------------------------------------------

  /**
   * `read()` resolves to everything that is left; `read(n)` to the next 1..n bytes as soon
   * as any are available (fewer than n is normal: it does not wait to fill n). Both resolve
   * to an empty Uint8Array at the end of the body and reject when the body failed.
   */
  async read(n?: number): Promise<Uint8Array> {
    if (n === undefined || n === null || n < 0) return this.readAll();
    this.touched = true;
    if (n === 0) {
      if (this.error !== null) throw this.error;
      return EMPTY;
    }
    const chunk = await this.nextChunk(Math.floor(n) || 1);
    return chunk === null ? EMPTY : chunk;
  }

  text(): Promise<string> {
    return this.readAll().then(decode);
  }

  json(): Promise<unknown> {
    return this.text().then(parseJson);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.readAll().then(ownArrayBuffer);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.touched = true;
    for (;;) {
      const chunk = await this.nextChunk(Infinity);
      if (chunk === null) return;
      yield chunk;
    }
  }
}

/** The shared input of every request without a body: stateless, always at EOF. */
export const EMPTY_INPUT: TsgiInput = Object.freeze({
  read(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(0));
  },
  text(): Promise<string> {
    return Promise.resolve('');
  },
  json(): Promise<unknown> {
    return Promise.reject(new SyntaxError('Unexpected end of JSON input'));
  },
  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(new ArrayBuffer(0));
  },
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => Promise.resolve({ done: true, value: undefined }) };
  },
});
