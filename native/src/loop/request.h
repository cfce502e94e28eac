// The request side of a connection: request.cc (HTTP, uwsgi, SCGI, the shared steps) and
// fastcgi.cc (FastCGI records), used by connection.cc.
#ifndef TSGI_LOOP_REQUEST_H_
#define TSGI_LOOP_REQUEST_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "common/span.h"
#include "loop/connection.h"
#include "proto/uwsgi.h"

namespace tsgi {

// Parses and dispatches as much of data[0..len) as the connection's state allows; returns
// the bytes used, or -1 when the connection is closing.
long ProcessBytes(Connection* c, const char* data, size_t len);

// Refuses the current input with a canned status and closes once it is written. Used before
// the request reached the app; the log gets one line naming the cause, with `detail` (sizes,
// the modifier) when there is one.
void Refuse(Connection* c, ErrorCode err, const char* detail = nullptr);

// --- steps shared by the protocols (request.cc) ---------------------------------------------

// Clears the per-request fields before a new request starts.
void ResetRequest(Connection* c);

// Copies what the log line needs from the head (spans die with the read callback).
void RememberForLog(Connection* c, Span method, Span uri, Span proto, size_t nvars, uint32_t pktsize);

// Takes an app slot for the request just parsed: one granted while the connection waited,
// or a free one now. When the cores are full the connection waits (kWaitSlot) with its
// bytes kept, and the request is parsed again once a slot is granted.
bool TakeSlot(Connection* c);

// Hands the request whose vars are in the Server's blob to the app. `body`/`body_len` are
// body bytes already received.
void Dispatch(Connection* c, uint32_t flags, size_t nvars, const char* body, size_t body_len);

// True once the body has averaged less than --min-body-rate since its clock started, after
// a grace of socket-timeout (a client that sends nothing at all meets the read deadline
// first). `bytes` counts the body received so far.
bool BodyTooSlow(const Connection* c, uint64_t bytes);
void StartBodyClock(Connection* c, uint64_t bytes);

// --post-buffering: whether enough of the body behind a parsed head is here to call the
// app (all of it, or post-buffering bytes of a longer one). While it is not, the bytes stay
// in pending_in, the head is not read again, and no app slot is held: a client that drips
// its body costs a connection, never the app (docs/security.md).
// Returns 1 to dispatch, 0 to wait for more, -1 after refusing a body that is too slow.
// Non-chunked bodies count `len` as the bytes present (`data` is read only when chunked).
// `expect_100`: the client waits for "100 Continue" before it sends the body (RFC 9110
// 10.1.1), which is sent when buffering starts.
int BodyBuffered(Connection* c, bool chunked, uint64_t content_length, const char* data, size_t len,
                 bool expect_100);

// The vars a gateway protocol's request (uwsgi, FastCGI, SCGI) is read by; the last
// duplicate wins, as in uWSGI's environ.
struct GatewayFacts {
  Span method, uri, proto, path, remote, content_length;
};
GatewayFacts ScanGatewayVars(const UwsgiVar* vars, size_t n);

// Starts a gateway request whose slot is taken: resets the request, reads HEAD, the
// response protocol (SERVER_PROTOCOL, else HTTP/1.0, as uWSGI answers) and REMOTE_ADDR,
// and keeps the log material. The caller sets the body fields and builds the vars first.
void BeginGatewayRequest(Connection* c, const GatewayFacts& f, size_t nvars, uint32_t pktsize);

// --- FastCGI (fastcgi.cc) -------------------------------------------------------------------

// In kHead: records up to and including the end of a request's params, which dispatches it.
// Same return convention as ProcessBytes; 0 when no complete record is waiting.
long ProcessFcgiHead(Connection* c, const char* data, size_t len);
// In kBody: the request's FCGI_STDIN records (and management records between them).
long ProcessFcgiBody(Connection* c, const char* data, size_t len);

}  // namespace tsgi

#endif  // TSGI_LOOP_REQUEST_H_
