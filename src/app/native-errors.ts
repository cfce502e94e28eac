// Names and log reasons of the native error codes that reach the app layer through
// onData(id, null, code) and onAbort(id, code). Mirrors native/src/common/errors.h
// (append-only catalogue); codes not listed here are reported as "native error <n>".

const NAMES: Record<number, readonly [string, string]> = {
  30: ['HTTP_BODY_TOO_LARGE', 'request body larger than limit-post'],
  32: ['HTTP_BODY_TIMEOUT', 'request body stalled longer than socket-timeout'],
  33: ['HTTP_TRUNCATED_BODY', 'connection closed before the request body ended'],
  22: ['HTTP_BAD_CHUNK_SIZE', 'malformed chunk size'],
  23: ['HTTP_BAD_CHUNK_EXT', 'malformed chunk extension'],
  24: ['HTTP_BAD_CHUNK_DATA', 'chunk data not followed by CRLF'],
  25: ['HTTP_BAD_TRAILER', 'malformed trailer field'],
  26: ['HTTP_CHUNK_TOO_LARGE', 'chunk size too large'],
  71: ['UWSGI_BODY_TOO_LARGE', 'CONTENT_LENGTH larger than limit-post'],
  96: ['IO_READ_FAILED', 'read from client failed'],
  97: ['IO_WRITE_FAILED', 'write to client failed'],
  98: ['IO_WRITE_TIMEOUT', 'client did not read the response within socket-timeout'],
  99: ['IO_PEER_CLOSED', 'client closed the connection'],
};

/** Stable upper-case name of a native error code ("HTTP_TRUNCATED_BODY"), or "NATIVE_<n>". */
export function nativeErrorName(code: number): string {
  const entry = NAMES[code];
  return entry === undefined ? 'NATIVE_' + code : entry[0];
}

/** One-line reason of a native error code for logs and error messages. */
export function nativeErrorReason(code: number): string {
  const entry = NAMES[code];
  return entry === undefined ? 'native error ' + code : entry[1];
}
