// The contract between the native core (one Server per serving thread) and the TypeScript
// request path. Everything here crosses the N-API boundary, so it is kept to numbers,
// strings and byte arrays: no per-request objects are created by native code.
//
// Threading invariant: a Server, its callbacks and its Transport methods all run on the one
// JS thread that created the Server (the process's main thread, or one app thread later).

/** Flags passed with each request to `onRequest`. */
export const enum RequestFlags {
  /** No onData events follow: `body` (possibly undefined) is the whole request body. */
  BodyDone = 1,
  /** The method is HEAD: the transport drops any body the app writes. */
  Head = 2,
  /** The request arrived over the uwsgi protocol: the vars are exactly what the peer sent. */
  Uwsgi = 4,
  /** The connection stays open after the response (HTTP keep-alive). */
  KeepAlive = 8,
  /** The request body uses the chunked transfer coding (already de-chunked by native). */
  Chunked = 16,
  /**
   * The request's raw header lines follow its vars in `meta` (only on a Server created with
   * `rawHeaders: true`, and only for HTTP requests): `(flags >> RawCountShift) & 0xff` lines,
   * 4 offsets each (name start, name end, value start, value end) into `blob`, from
   * `meta[4 * nvars]` on, names as sent, in order, repeats kept.
   */
  RawHeaders = 32,
  /**
   * `Expect: 100-continue` left to the app (a Server created with `continueByApp: true`):
   * the core sent no interim 100; `transport.writeContinue(id)` sends it.
   */
  ExpectContinue = 64,
  /**
   * The body arrives into one buffer of its Content-Length (a Server created with
   * `wholeBodyMax`): `body` is that buffer, of which the first `filled` bytes are here; later
   * bytes are announced by `onData(id, null, 0, filled)`, and filled === body.byteLength ends
   * the body. Native writes into the buffer until then: nothing may hand it (or a view of
   * it) to the app before, so it cannot be detached or transferred while it is written.
   */
  BodyWhole = 128,
  /** modifier1 of a uwsgi packet lives in bits 8..15: `(flags >> 8) & 0xff`. */
  // biome-ignore lint/suspicious/noDuplicateEnumValues: bits 8..15 carry the raw line count for HTTP requests (RawCountShift)
  ModifierShift = 8,
  /** With RawHeaders (HTTP requests, never uwsgi): bits 8..15 hold the raw line count. */
  RawCountShift = 8,
  /**
   * Bits 16..31: the shape id of the var names (`flags >>> 16`), 0 when none. Equal ids on
   * one Server mean byte-identical name sequences (native/src/loop/shapes.h), so a builder
   * compiled for an id never needs to re-check the names.
   */
  ShapeShift = 16,
}

/** Flags passed by the app layer with a response head. */
export const enum ResponseFlags {
  /** The app supplied Content-Length: native must not add one or chunk the body. */
  HasContentLength = 1,
  /** The app asked for "Connection: close": native closes after this response. */
  ConnectionClose = 2,
  /** The app supplied its own Transfer-Encoding: native passes the body through as is. */
  HasTransferEncoding = 4,
}

/**
 * Request-path callbacks that native code calls. `blob` is one latin1 string holding every
 * var of the request; `meta` (the Server's shared Uint32Array, valid only during the call)
 * holds 4 offsets per var: [keyStart, keyEnd, valueStart, valueEnd] into `blob`, in order
 * (uwsgi: packet order, duplicates included, the last one wins; HTTP: the CGI vars that
 * nginx's uwsgi_params would send, then one HTTP_<NAME> per header, repeats joined with ", ").
 */
export interface NativeCallbacks {
  onRequest(
    id: number,
    flags: number,
    blob: string,
    nvars: number,
    body: Uint8Array | undefined,
    filled?: number,
  ): void;
  /**
   * More body bytes (`chunk`), the end of the body (null, 0), or a body error (null, code);
   * for a RequestFlags.BodyWhole body, how far its buffer is filled (null, 0, filled).
   */
  onData(id: number, chunk: Uint8Array | null, error: number, filled?: number): void;
  /** The response buffer of request `id` fell below the high-water mark after write() said false. */
  onDrain(id: number): void;
  /** The client went away or the write failed before the response ended; later calls are no-ops. */
  onAbort(id: number, error: number): void;
}

/** What the app layer calls to answer. All methods ignore ids that are no longer live. */
export interface Transport {
  /** Sends a complete response at once. `status` is e.g. "200 OK"; `headers` is a block of
   *  "Name: value\r\n" lines, already validated (no CR/LF/NUL inside names or values). */
  respond(id: number, status: string, headers: string, flags: number, body?: string | Uint8Array): void;
  /** Starts a streamed response; native picks Content-Length, chunked or close-delimited framing. */
  writeHead(id: number, status: string, headers: string, flags: number): void;
  /** Appends body bytes; returns false when the caller should wait for onDrain. */
  write(id: number, chunk: string | Uint8Array): boolean;
  /**
   * Ends a streamed response (with an optional last chunk). `trailers`, a block of
   * "Name: value\r\n" lines validated as headers are, follow the last chunk of a chunked
   * body (RFC 9112 section 7.1.2); native drops them for any other framing.
   */
  end(id: number, chunk?: string | Uint8Array, trailers?: string): void;
  /**
   * Sends `HTTP/1.1 100 Continue` for a request flagged ExpectContinue, once, before the
   * response head (node:http's res.writeContinue()); a no-op otherwise. Optional.
   */
  writeContinue?(id: number): void;
  /** Closes the connection of a response that cannot be completed (error after the first byte). */
  abort(id: number): void;
  /** Stops / restarts reading the request body (input back-pressure). */
  pauseInput(id: number): void;
  resumeInput(id: number): void;
  /** Writes one line (newline added) to the server log, in order with the request log lines. */
  log(line: string): void;
  /** Counts an app exception in the scoreboard (uWSGI's `exceptions`); optional. */
  countException?(): void;
}

/**
 * onAbort code IO_PEER_SHUTDOWN (native/src/common/errors.h): the client shut down its side
 * while the app works. Unlike every other onAbort, the request stays live and a response the
 * app still produces is sent; it only tells the app that the client may be gone.
 */
export const PEER_SHUTDOWN = 95;

/**
 * onAbort code IO_PEER_CLOSED (native/src/common/errors.h): the client closed the connection.
 * An onAbort without a code is reported to the app as this one.
 */
export const PEER_CLOSED = 99;

/** Stable names of native error codes, by number (mirrors native/src/common/errors.h). */
export type NativeErrorName = string;
