// A fake native core for app-layer tests: packs vars into a blob + meta array the way the
// addon does, and a Transport that records every call.

import { createDispatcher, type Dispatcher, type DispatcherOptions } from '../../../src/app/dispatcher';
import type { FetchFunction } from '../../../src/app/fetch';
import type { GatewayApp } from '../../../src/app/gateway';
import type { LoadedApp } from '../../../src/app/loader';
import type { Transport } from '../../../src/native/types';

export const BodyDone = 1;
export const Head = 2;
export const Uwsgi = 4;
export const KeepAlive = 8;
export const BodyWhole = 128;

/** Packs [key, value] vars into one latin1 blob and 4 offsets per var. */
export function packVars(vars: ReadonlyArray<readonly [string, string]>, meta = new Uint32Array(vars.length * 4)) {
  let blob = '';
  vars.forEach(([k, v], i) => {
    meta[i * 4] = blob.length;
    blob += k;
    meta[i * 4 + 1] = blob.length;
    meta[i * 4 + 2] = blob.length;
    blob += v;
    meta[i * 4 + 3] = blob.length;
  });
  return { blob, meta, nvars: vars.length };
}

export interface Recorded {
  status?: string;
  headers?: string;
  flags?: number;
  /** Body chunks as written (strings decoded from bytes as utf-8). */
  chunks: string[];
  /** 'respond' | 'stream' */
  mode?: string;
  ended: boolean;
  aborted: boolean;
}

export class FakeTransport implements Transport {
  calls: Array<[string, ...unknown[]]> = [];
  logs: string[] = [];
  responses = new Map<number, Recorded>();
  /** What write() returns; a function gets the running count of writes for the id. */
  writeResult: boolean | ((id: number, n: number) => boolean) = true;
  private writes = new Map<number, number>();

  rec(id: number): Recorded {
    let r = this.responses.get(id);
    if (r === undefined) {
      r = { chunks: [], ended: false, aborted: false };
      this.responses.set(id, r);
    }
    return r;
  }

  /** The body sent so far, as one string. */
  body(id: number): string {
    return this.rec(id).chunks.join('');
  }

  private static text(chunk: string | Uint8Array): string {
    return typeof chunk === 'string'
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  }

  respond(id: number, status: string, headers: string, flags: number, body?: string | Uint8Array): void {
    this.calls.push(['respond', id, status, headers, flags, body]);
    const r = this.rec(id);
    Object.assign(r, { status, headers, flags, mode: 'respond', ended: true });
    if (body !== undefined) r.chunks.push(FakeTransport.text(body));
  }
  writeHead(id: number, status: string, headers: string, flags: number): void {
    this.calls.push(['writeHead', id, status, headers, flags]);
    Object.assign(this.rec(id), { status, headers, flags, mode: 'stream' });
  }
  write(id: number, chunk: string | Uint8Array): boolean {
    this.calls.push(['write', id, chunk]);
    this.rec(id).chunks.push(FakeTransport.text(chunk));
    const n = (this.writes.get(id) ?? 0) + 1;
    this.writes.set(id, n);
    const w = this.writeResult;
    return typeof w === 'function' ? w(id, n) : w;
  }
  end(id: number, chunk?: string | Uint8Array): void {
    this.calls.push(['end', id, chunk]);
    const r = this.rec(id);
    if (chunk !== undefined) r.chunks.push(FakeTransport.text(chunk));
    r.ended = true;
  }
  abort(id: number): void {
    this.calls.push(['abort', id]);
    this.rec(id).aborted = true;
  }
  pauseInput(id: number): void {
    this.calls.push(['pauseInput', id]);
  }
  resumeInput(id: number): void {
    this.calls.push(['resumeInput', id]);
  }
  log(line: string): void {
    this.calls.push(['log', line]);
    this.logs.push(line);
  }

  /** Names of the calls made for `id` (log lines excluded). */
  callNames(id: number): string[] {
    return this.calls.filter((c) => c[0] !== 'log' && c[1] === id).map((c) => c[0]);
  }
}

/** The vars native sends for a plain HTTP request (what nginx's uwsgi_params would send). */
export function httpVars(method = 'GET', uri = '/', extra: Array<[string, string]> = []): Array<[string, string]> {
  const q = uri.indexOf('?');
  return [
    ['REQUEST_METHOD', method],
    ['REQUEST_URI', uri],
    ['PATH_INFO', q < 0 ? uri : uri.slice(0, q)],
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)],
    ['SCRIPT_NAME', ''],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_NAME', 'localhost'],
    ['SERVER_PORT', '9090'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['REMOTE_PORT', '50000'],
    ['CONTENT_TYPE', ''],
    ['CONTENT_LENGTH', ''],
    ['HTTP_HOST', 'localhost:9090'],
    ['HTTP_USER_AGENT', 'test'],
    ['HTTP_ACCEPT', '*/*'],
    ...extra,
  ];
}

export interface RequestOptions {
  flags?: number;
  /** The body given with onRequest (with BodyDone unless `streaming`). */
  body?: Uint8Array | string;
  /** Body arrives later through onData: BodyDone is not set. */
  streaming?: boolean;
  /**
   * The body goes to the app whole (RequestFlags.BodyWhole): `body` is the buffer of its full
   * length, of which `whole` bytes are filled; fill() announces more, as native does.
   */
  whole?: number;
}

/** A dispatcher over a fake transport, with a helper that sends one request. */
export class FakeServer {
  readonly transport = new FakeTransport();
  readonly meta = new Uint32Array(1024);
  readonly dispatcher: Dispatcher;
  private nextId = 1;

  constructor(app: LoadedApp, options: Partial<DispatcherOptions> = {}) {
    this.dispatcher = createDispatcher(app, this.transport, {
      workerId: 1,
      coreId: 0,
      multithread: false,
      multiprocess: false,
      meta: this.meta,
      ...options,
    });
  }

  static gateway(fn: GatewayApp, options?: Partial<DispatcherOptions>): FakeServer {
    return new FakeServer({ kind: 'gateway', fn, file: 'test', exportName: 'application' }, options);
  }

  static fetch(handler: FetchFunction, options?: Partial<DispatcherOptions>): FakeServer {
    return new FakeServer({ kind: 'fetch', handler, thisArg: undefined, file: 'test', exportName: 'app' }, options);
  }

  /** Sends a request; returns its id. */
  request(vars: Array<[string, string]> = httpVars(), opts: RequestOptions = {}): number {
    const id = this.nextId++;
    const { blob, nvars } = packVars(vars, this.meta);
    let flags = opts.flags ?? KeepAlive;
    if (opts.whole !== undefined) flags |= BodyWhole;
    else if (!opts.streaming) flags |= BodyDone;
    const body = typeof opts.body === 'string' ? new TextEncoder().encode(opts.body) : opts.body;
    this.dispatcher.onRequest(id, flags, blob, nvars, body, opts.whole);
    // Native reuses the meta array for the next request: scribble over it.
    this.meta.fill(0xffff);
    return id;
  }

  data(id: number, chunk: string | Uint8Array): void {
    this.dispatcher.onData(id, typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk, 0);
  }
  /** The whole body's buffer now holds `filled` bytes (the caller wrote them into it). */
  fill(id: number, filled: number): void {
    this.dispatcher.onData(id, null, 0, filled);
  }
  endBody(id: number): void {
    this.dispatcher.onData(id, null, 0);
  }
  bodyError(id: number, code: number): void {
    this.dispatcher.onData(id, null, code);
  }
}

/** Lets pending promise jobs and one macrotask turn run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `cond()` holds (polling each macrotask turn), up to ~200 turns. */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await settle();
  }
  throw new Error('timed out waiting for ' + what);
}
