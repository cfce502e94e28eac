// `res` of a node:http app: a real http.ServerResponse (instanceof, and node's own
// setHeader / getHeader / getHeaders / hasHeader / removeHeader / appendHeader / writeHead
// validation), whose output goes to the native Transport instead of a socket. node's
// writeHead and _implicitHeader end in _storeHeader, which renders the head here; write and
// end are replaced so a response produced at once costs one native call.

import { ServerResponse } from 'node:http';
import { ResponseFlags } from '../../native/types';
import { normalizeStatus } from '../status';
import { type NodeHead, renderNodeHead, utcDate } from './headers';
import { delegateToTsgi } from './patch';
import type { NodeRequest } from './request';

/** What the response needs from its exchange. */
export interface ResponseOwner {
  /** The head is final (writeHead / first write / end). */
  setHead(status: string, head: NodeHead): void;
  /** Body bytes; false when the app should wait for 'drain'. */
  writeChunk(chunk: string | Uint8Array): boolean;
  /**
   * The end of the response, with an optional last chunk and the trailer fields node's
   * addTrailers() rendered ("Name: value\r\n" lines, validated there; '' when none).
   */
  endResponse(chunk: string | Uint8Array | undefined, trailers: string): void;
  /** Sends the interim `100 Continue` the core left to the app (writeContinue). */
  sendContinue(): void;
  /** Sends the head now (flushHeaders). */
  flushHead(): void;
}

// node:http keeps the header table under a private symbol; setHeader and friends use it, and
// _storeHeader is handed the same object, which is how a table from setHeader is told apart
// from writeHead's own argument.
const kOutHeaders: symbol = (() => {
  const probe = new ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as never);
  const sym = Object.getOwnPropertySymbols(probe).find((s) => s.description === 'kOutHeaders');
  if (sym === undefined)
    throw new Error('node:http ServerResponse has no kOutHeaders table: unsupported Node.js version');
  return sym;
})();

function streamError(code: string, message: string): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}

type Callback = (err?: Error | null) => void;

function toChunk(chunk: unknown, encoding: unknown): string | Uint8Array {
  if (typeof chunk === 'string') {
    if (encoding === undefined || encoding === null || encoding === 'utf8' || encoding === 'utf-8') return chunk;
    return Buffer.from(chunk, encoding as BufferEncoding);
  }
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk === null) throw streamError('ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  const err = new TypeError(
    'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ' + typeof chunk,
  ) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_TYPE';
  throw err;
}

/** 'finish' (after the bytes are handed over, as node emits it after the socket write), then 'close'. */
function finishNT(res: NodeResponse): void {
  res.emit('finish');
  // A tick of its own only when someone listens: most responses end here.
  if (res.listenerCount('close') > 0) process.nextTick(closeNT, res);
  else closeNT(res);
}

function closeNT(res: NodeResponse): void {
  if (res.tsgiClosed) return;
  res.tsgiClosed = true;
  res.destroyed = true;
  res.emit('close');
}

function errorNT(res: NodeResponse, err: Error, cb: Callback | undefined): void {
  if (cb !== undefined) cb(err);
  if (!res.destroyed) res.emit('error', err);
}

export class NodeResponse extends ServerResponse<NodeRequest> {
  declare tsgiOwner: ResponseOwner;
  declare tsgiNeedDrain: boolean;
  declare tsgiClosed: boolean;
  // node:http internals this class drives (lib/_http_outgoing.js, lib/_http_server.js).
  declare _header: string | null;
  declare _contentLength: number | null;
  declare _sent100: boolean;
  /** node's addTrailers() output: validated "Name: value\r\n" lines. */
  declare _trailer: string;
  declare _implicitHeader: () => void;

  constructor(req: NodeRequest, owner: ResponseOwner) {
    super(req);
    this.tsgiOwner = owner;
    this.tsgiNeedDrain = false;
    this.tsgiClosed = false;
    (this as { socket: unknown }).socket = req.socket;
  }

  /** Called by node's writeHead (also on behalf of an implicit head) with the table to send. */
  _storeHeader(_firstLine: string, headers: unknown): void {
    const line = normalizeStatus(this.statusCode + ' ' + this.statusMessage) ?? String(this.statusCode);
    const head = renderNodeHead(headers, (this as unknown as Record<symbol, unknown>)[kOutHeaders]);
    // node:http refuses a Trailer field on a body it will not chunk (lib/_http_outgoing.js).
    if (head.hasTrailer && (head.flags & (ResponseFlags.HasContentLength | ResponseFlags.HasTransferEncoding)) !== 0) {
      throw streamError('ERR_HTTP_TRAILER_INVALID', 'Trailers are invalid with this transfer encoding');
    }
    if (this.sendDate && !head.hasDate) head.headers += 'Date: ' + utcDate() + '\r\n';
    // headersSent is `!!this._header`; some libraries read the text itself.
    (this as unknown as { _header: string })._header = 'HTTP/1.1 ' + line + '\r\n' + head.headers + '\r\n';
    this.tsgiOwner.setHead(line, head);
  }

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const callback = typeof cb === 'function' ? (cb as Callback) : undefined;
    if (this.finished || this.destroyed) {
      const err = this.finished
        ? streamError('ERR_STREAM_WRITE_AFTER_END', 'write after end')
        : streamError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
      if (this.destroyed) {
        if (callback !== undefined) process.nextTick(callback, err);
      } else {
        process.nextTick(errorNT, this, err, callback);
      }
      return false;
    }
    const data = toChunk(chunk, encoding);
    if (!this._header) this._implicitHeader();
    const ok = this.tsgiOwner.writeChunk(data);
    if (callback !== undefined) process.nextTick(callback);
    if (!ok) this.tsgiNeedDrain = true;
    return ok;
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const callback = typeof cb === 'function' ? (cb as Callback) : undefined;
    let data: string | Uint8Array | undefined;
    if (chunk !== undefined && chunk !== null && chunk !== '') {
      if (this.finished) {
        process.nextTick(errorNT, this, streamError('ERR_STREAM_WRITE_AFTER_END', 'write after end'), callback);
        return this;
      }
      data = toChunk(chunk, encoding);
    } else if (this.finished) {
      if (callback !== undefined) {
        if (!this.writableFinished) this.once('finish', callback);
        else callback(streamError('ERR_STREAM_ALREADY_FINISHED', 'Cannot call end after a stream was finished'));
      }
      return this;
    }
    if (!this._header) {
      this._contentLength =
        data === undefined ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      this._implicitHeader();
    }
    if (callback !== undefined) this.once('finish', callback);
    this.finished = true;
    if (!this.destroyed) this.tsgiOwner.endResponse(data, this._trailer);
    this.emit('prefinish');
    process.nextTick(finishNT, this);
    return this;
  }

  override flushHeaders(): void {
    if (!this._header) this._implicitHeader();
    this.tsgiOwner.flushHead();
  }

  /**
   * The core answers `Expect: 100-continue` itself before the app runs unless the server has
   * 'checkContinue' listeners; then this sends the 100 (once, before the head), as node does.
   */
  override writeContinue(cb?: () => void): void {
    if (!this._header && !this._sent100) this.tsgiOwner.sendContinue();
    this._sent100 = true;
    if (typeof cb === 'function') process.nextTick(cb);
  }
}

/** The transport drained after write() returned false: 'drain', as a socket would. */
export function responseDrained(res: NodeResponse): void {
  if (res.tsgiNeedDrain) {
    res.tsgiNeedDrain = false;
    res.emit('drain');
  }
}

/** The client went away before the response ended: 'close' without 'finish', as node does. */
export function responseAborted(res: NodeResponse): void {
  process.nextTick(closeNT, res);
}

Object.defineProperty(NodeResponse.prototype, 'writableNeedDrain', {
  configurable: true,
  get(this: NodeResponse): boolean {
    return !this.destroyed && !this.finished && this.tsgiNeedDrain;
  },
});

// Express (4 and 5) re-points every request's and response's prototype at its own objects,
// which inherit from http.IncomingMessage.prototype / http.ServerResponse.prototype directly,
// so the overrides above would be skipped. The same overrides are therefore also installed
// on node's prototypes, delegating to node's own code for every object that is not tsgi's.
delegateToTsgi(ServerResponse.prototype, NodeResponse.prototype, [
  '_storeHeader',
  'write',
  'end',
  'flushHeaders',
  'writeContinue',
  'writableNeedDrain',
]);
