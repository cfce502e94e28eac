// The one catalogue of native error codes. Codes are append-only: a number never changes
// meaning once released (the llhttp and libuv rule). Each entry names the HTTP status the
// socket layer answers with when the error ends a request, and a one-line reason that goes
// into the log.
//
// X(NAME, number, http_status, "reason")
#ifndef TSGI_COMMON_ERRORS_H_
#define TSGI_COMMON_ERRORS_H_

#include <cstddef>
#include <cstdint>

#define TSGI_ERROR_MAP(X)                                                                            \
  X(OK, 0, 200, "no error")                                                                          \
  /* HTTP/1.1 request head (RFC 9112) */                                                             \
  X(HTTP_BAD_METHOD, 1, 400, "malformed request method")                                             \
  X(HTTP_BAD_TARGET, 2, 400, "malformed request target")                                             \
  X(HTTP_BAD_VERSION, 3, 400, "malformed HTTP version")                                              \
  X(HTTP_UNSUPPORTED_VERSION, 4, 505, "unsupported HTTP version")                                    \
  X(HTTP_BAD_REQUEST_LINE, 5, 400, "malformed request line")                                         \
  X(HTTP_BAD_HEADER_NAME, 6, 400, "malformed header field name")                                     \
  X(HTTP_BAD_HEADER_VALUE, 7, 400, "invalid character in header field value")                        \
  X(HTTP_OBS_FOLD, 8, 400, "obsolete line folding in header")                                        \
  X(HTTP_WS_BEFORE_COLON, 9, 400, "whitespace between header name and colon")                        \
  X(HTTP_BARE_CR, 10, 400, "bare CR in request head")                                                \
  X(HTTP_BARE_LF, 11, 400, "bare LF in request head")                                                \
  X(HTTP_TOO_MANY_HEADERS, 12, 431, "too many header fields")                                        \
  X(HTTP_HEAD_TOO_LARGE, 13, 431, "request head larger than buffer-size")                            \
  X(HTTP_URI_TOO_LONG, 14, 414, "request target too long")                                           \
  X(HTTP_BAD_CONTENT_LENGTH, 15, 400, "invalid Content-Length")                                      \
  X(HTTP_DUP_CONTENT_LENGTH, 16, 400, "conflicting Content-Length headers")                          \
  X(HTTP_CL_AND_TE, 17, 400, "Content-Length together with Transfer-Encoding")                       \
  X(HTTP_TE_NOT_CHUNKED, 18, 400, "Transfer-Encoding whose final coding is not chunked")             \
  X(HTTP_TE_UNKNOWN, 19, 501, "unsupported transfer coding")                                         \
  X(HTTP_MISSING_HOST, 20, 400, "missing Host header")                                               \
  X(HTTP_DUP_HOST, 21, 400, "repeated Host header")                                                  \
  X(HTTP_BAD_CHUNK_SIZE, 22, 400, "malformed chunk size")                                            \
  X(HTTP_BAD_CHUNK_EXT, 23, 400, "malformed chunk extension")                                        \
  X(HTTP_BAD_CHUNK_DATA, 24, 400, "chunk data not followed by CRLF")                                 \
  X(HTTP_BAD_TRAILER, 25, 400, "malformed trailer field")                                            \
  X(HTTP_CHUNK_TOO_LARGE, 26, 413, "chunk size too large")                                           \
  X(HTTP_BAD_PATH, 27, 400, "request path cannot be decoded")                                        \
  X(HTTP_NUL_IN_PATH, 28, 400, "%00 in request path")                                                \
  X(HTTP_BAD_EXPECT, 29, 417, "unsupported Expect value")                                            \
  X(HTTP_BODY_TOO_LARGE, 30, 413, "request body larger than limit-post")                             \
  X(HTTP_HEAD_TIMEOUT, 31, 408, "request head not received within socket-timeout")                   \
  X(HTTP_BODY_TIMEOUT, 32, 408, "request body stalled longer than socket-timeout")                   \
  X(HTTP_TRUNCATED_BODY, 33, 400, "connection closed before the request body ended")                 \
  X(HTTP_PIPELINE_OVERFLOW, 34, 431, "too many pipelined bytes buffered")                            \
  X(HTTP_BAD_TRANSFER_ENCODING, 35, 400, "malformed Transfer-Encoding")                              \
  X(HTTP_CHUNK_LINE_TOO_LONG, 36, 400, "chunk-size line or trailer line too long")                   \
  X(HTTP_TRAILERS_TOO_LARGE, 37, 431, "chunked trailer section too large")                           \
  X(HTTP_BODY_UNREAD, 38, 400, "response ended before the request body was read; connection closed") \
  X(HTTP_BODY_TOO_SLOW, 39, 408, "request body slower than min-body-rate")                           \
  X(APP_LENGTH_MISMATCH, 40, 500, "response body length differs from the app's Content-Length")      \
  /* uwsgi protocol (docs/protocol-uwsgi.md) */                                                      \
  X(UWSGI_BLOCK_TOO_LARGE, 64, 413, "uwsgi vars block larger than buffer-size")                      \
  X(UWSGI_EMPTY_KEY, 65, 400, "uwsgi key cannot be empty")                                           \
  X(UWSGI_TRUNCATED_VAR, 66, 400, "uwsgi var overruns the vars block")                               \
  X(UWSGI_TOO_MANY_VARS, 67, 413, "too many uwsgi vars")                                             \
  X(UWSGI_BAD_MODIFIER, 68, 501, "unavailable modifier requested")                                   \
  X(UWSGI_EMPTY_BLOCK, 69, 400, "empty uwsgi vars block")                                            \
  X(UWSGI_BAD_CONTENT_LENGTH, 70, 400, "invalid CONTENT_LENGTH var")                                 \
  X(UWSGI_BODY_TOO_LARGE, 71, 413, "CONTENT_LENGTH larger than limit-post")                          \
  X(UWSGI_HEAD_TIMEOUT, 72, 408, "uwsgi packet not received within socket-timeout")                  \
  /* HTTP router (--http) */                                                                         \
  X(ROUTER_CONNECT_FAILED, 80, 502, "cannot connect to the worker socket")                           \
  X(ROUTER_NO_RESPONSE, 81, 502, "worker closed the connection without a response")                  \
  X(ROUTER_TIMEOUT, 82, 504, "worker did not answer within http-timeout")                            \
  X(ROUTER_PACKET_TOO_LARGE, 83, 431, "request vars larger than the workers' buffer-size")           \
  X(ROUTER_BODY_TOO_LARGE, 84, 413, "chunked request body larger than the router buffers")           \
  /* socket layer */                                                                                 \
  X(IO_PEER_SHUTDOWN, 95, 500, "client shut down its side while the app works")                      \
  X(IO_READ_FAILED, 96, 500, "read from client failed")                                              \
  X(IO_WRITE_FAILED, 97, 500, "write to client failed")                                              \
  X(IO_WRITE_TIMEOUT, 98, 500, "client did not read the response within socket-timeout")             \
  X(IO_PEER_CLOSED, 99, 500, "client closed the connection")                                         \
  /* the --http router, continued */                                                                 \
  X(ROUTER_CLIENT_STALLED, 85, 500, "client did not read the response within http-timeout")          \
  X(ROUTER_RESPONSE_STALLED, 86, 504, "worker sent nothing more within http-timeout mid-response")   \
  /* FastCGI 1.0 (docs/protocol-fastcgi.md) */                                                       \
  X(FCGI_BAD_VERSION, 100, 400, "FastCGI record version is not 1")                                   \
  X(FCGI_BAD_BEGIN_REQUEST, 101, 400, "malformed FCGI_BEGIN_REQUEST body")                           \
  X(FCGI_UNEXPECTED_RECORD, 102, 400, "FastCGI record out of order for its request")                 \
  X(FCGI_PARAMS_TOO_LARGE, 103, 413, "FastCGI params larger than buffer-size")                       \
  X(FCGI_TRUNCATED_PARAM, 104, 400, "FastCGI name-value pair overruns its stream")                   \
  X(FCGI_EMPTY_NAME, 105, 400, "FastCGI param name cannot be empty")                                 \
  X(FCGI_TOO_MANY_PARAMS, 106, 413, "too many FastCGI params")                                       \
  X(FCGI_BAD_CONTENT_LENGTH, 107, 400, "invalid CONTENT_LENGTH param")                               \
  X(FCGI_BODY_TOO_LARGE, 108, 413, "FastCGI request body larger than limit-post")                    \
  X(FCGI_BODY_LENGTH_MISMATCH, 109, 400, "FCGI_STDIN length differs from CONTENT_LENGTH")            \
  X(FCGI_HEAD_TIMEOUT, 110, 408, "FastCGI params not received within socket-timeout")                \
  /* SCGI (docs/protocol-scgi.md) */                                                                 \
  X(SCGI_BAD_NETSTRING, 120, 400, "malformed SCGI netstring")                                        \
  X(SCGI_BLOCK_TOO_LARGE, 121, 413, "SCGI header block larger than buffer-size")                     \
  X(SCGI_BAD_HEADERS, 122, 400, "malformed SCGI header block")                                       \
  X(SCGI_EMPTY_NAME, 123, 400, "SCGI header name cannot be empty")                                   \
  X(SCGI_CONTENT_LENGTH_NOT_FIRST, 124, 400, "SCGI header block does not start with CONTENT_LENGTH") \
  X(SCGI_NO_SCGI_HEADER, 125, 400, "SCGI header block lacks SCGI=1")                                 \
  X(SCGI_BAD_CONTENT_LENGTH, 126, 400, "invalid SCGI CONTENT_LENGTH")                                \
  X(SCGI_BODY_TOO_LARGE, 127, 413, "SCGI CONTENT_LENGTH larger than limit-post")                     \
  X(SCGI_TOO_MANY_VARS, 128, 413, "too many SCGI headers")                                           \
  X(SCGI_HEAD_TIMEOUT, 129, 408, "SCGI header block not received within socket-timeout")             \
  /* WebSocket opening handshake (RFC 6455 section 4.2.1; docs/websocket.md) */                      \
  X(WS_BAD_METHOD, 140, 400, "WebSocket upgrade with a method other than GET")                       \
  X(WS_BAD_HTTP_VERSION, 141, 400, "WebSocket upgrade over a version other than HTTP/1.1")           \
  X(WS_NO_UPGRADE_TOKEN, 142, 400, "Upgrade header lacks the websocket token")                       \
  X(WS_NO_CONNECTION_UPGRADE, 143, 400, "Connection header lacks the upgrade token")                 \
  X(WS_BAD_KEY, 144, 400, "Sec-WebSocket-Key is not 16 bytes in base64")                             \
  X(WS_BAD_VERSION, 145, 426, "Sec-WebSocket-Version is not 13")                                     \
  X(WS_BAD_EXTENSION_HEADER, 146, 400, "malformed Sec-WebSocket-Extensions header")                  \
  /* WebSocket frames (RFC 6455 section 5; the close code is WsCloseCodeFor) */                      \
  X(WS_RESERVED_OPCODE, 150, 400, "WebSocket frame with a reserved opcode")                          \
  X(WS_RSV_BITS, 151, 400, "WebSocket frame with RSV bits no extension allows")                      \
  X(WS_CONTROL_FRAGMENTED, 152, 400, "fragmented WebSocket control frame")                           \
  X(WS_CONTROL_TOO_LONG, 153, 400, "WebSocket control frame payload over 125 bytes")                 \
  X(WS_UNMASKED_FRAME, 154, 400, "unmasked WebSocket frame from a client")                           \
  X(WS_MASKED_FRAME, 155, 400, "masked WebSocket frame from a server")                               \
  X(WS_NON_MINIMAL_LENGTH, 156, 400, "WebSocket payload length not in its minimal encoding")         \
  X(WS_LENGTH_TOP_BIT, 157, 400, "WebSocket 64-bit payload length with the top bit set")             \
  X(WS_FRAME_TOO_BIG, 158, 413, "WebSocket frame larger than the maximum message size")              \
  X(WS_MESSAGE_TOO_BIG, 159, 413, "WebSocket message larger than the maximum message size")          \
  X(WS_UNEXPECTED_CONTINUATION, 160, 400, "WebSocket continuation frame without a message")          \
  X(WS_EXPECTED_CONTINUATION, 161, 400, "new WebSocket data frame inside a fragmented message")      \
  X(WS_INVALID_UTF8, 162, 400, "invalid UTF-8 in a WebSocket text message or close reason")          \
  X(WS_BAD_CLOSE_PAYLOAD, 163, 400, "WebSocket close payload of 1 byte")                             \
  X(WS_BAD_CLOSE_CODE, 164, 400, "WebSocket close code not allowed on the wire")

namespace tsgi {

enum class ErrorCode : uint16_t {
#define TSGI_ERROR_ENUM(name, num, status, reason) name = num,
  TSGI_ERROR_MAP(TSGI_ERROR_ENUM)
#undef TSGI_ERROR_ENUM
};

// Stable upper-case name ("HTTP_CL_AND_TE"), or "UNKNOWN".
const char* ErrorName(ErrorCode code);
// One-line human reason for the log.
const char* ErrorReason(ErrorCode code);
// HTTP status the server answers with when this error ends a request.
int ErrorStatus(ErrorCode code);
// A complete canned HTTP/1.1 response (status line, Content-Type, Content-Length,
// Connection: close, short body) for the given status. Never null; unknown statuses map to 500.
const char* CannedResponse(int status, size_t* len);

}  // namespace tsgi

#endif  // TSGI_COMMON_ERRORS_H_
