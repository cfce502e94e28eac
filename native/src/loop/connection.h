// One client connection and the request it is serving. HTTP connections carry a sequence
// of requests (keep-alive, pipelining), FastCGI ones a sequence when the web server asks to
// keep them (FCGI_KEEP_CONN); uwsgi and SCGI connections carry exactly one.
//
// Buffer lifetime: bytes are read into the Server's shared read buffer and parsed in
// place; only bytes that must outlive the read callback (an incomplete head, pipelined
// requests behind one the app is still serving) are copied into `pending_in`. Spans from
// the parsers are therefore valid only within one ProcessInput() call; anything kept
// longer (method, URI for the log line) is copied into the connection's strings, whose
// capacity is reused across requests.
#ifndef TSGI_LOOP_CONNECTION_H_
#define TSGI_LOOP_CONNECTION_H_

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loop/conn_list.h"
#include "loop/server.h"
#include "proto/chunked.h"
#include "proto/http1.h"

namespace tsgi {

enum class ConnState : uint8_t {
  kHead,      // waiting for (more of) a request head
  kBody,      // request dispatched, body still arriving
  kAwaiting,  // body complete, app still answering
  kWaitSlot,  // head parsed, waiting for a free app slot
  kClosing,   // flushing output, then close
  kClosed,
};

// Above this many unwritten response bytes Write() asks the app to wait for OnDrain.
constexpr size_t kResponseHighWater = 64 * 1024;

// Unsent response bytes above which no further pipelined request is parsed from the
// connection until the client has read them (docs/security.md): answers for a client that
// pipelines and never reads stay bounded by this plus one response.
constexpr size_t kPipelineOutputCap = kResponseHighWater;

constexpr uint64_t kNoDeclaredLength = ~0ull;

enum class RespState : uint8_t { kNone, kStreaming, kDone };
enum class Framing : uint8_t { kLength, kChunked, kClose };

struct Connection {
  ConnListNode timer;  // links for the Server's deadline lists (conn_list.h)
  Server* server = nullptr;
  uv_poll_t* poll = nullptr;
  int fd = -1;
  Protocol protocol = Protocol::kHttp;
  const ListenerSpec* listener = nullptr;
  ConnState state = ConnState::kHead;
  int poll_events = 0;
  bool processing = false;      // inside ProcessInput (responses are corked)
  bool deferred = false;        // queued on Server::deferred_
  bool peer_closed = false;     // read side saw EOF/RDHUP
  bool input_paused = false;    // app asked to stop reading the body
  bool pending_close = false;   // close once output is flushed
  bool slot_reserved = false;   // an app slot was granted while waiting (kWaitSlot)
  bool held_back = false;       // pipelined requests left unparsed while answers wait unread
  bool buffering_body = false;  // head parsed, body being buffered before dispatch (--post-buffering)
  uint8_t http_minor = 1;       // HTTP/1.x of the current request
  std::string remote_addr;
  std::string remote_port;
  std::string pending_in;  // unparsed bytes kept between reads
  // How far the HTTP head at the start of pending_in has been scanned, so a head that
  // arrives in pieces, or a complete one waiting for its body (--post-buffering) or for a
  // slot, is not scanned again from byte 0 on every read.
  HttpHeadScan head_scan;
  // --post-buffering's count of a chunked body behind that head, resumed on each read
  // (`off` counts from the body's first byte), so the body is not decoded again from its start.
  struct BufferedChunks {
    ChunkedDecoder decoder;
    size_t off = 0;
    uint64_t have = 0;
  } buffered_chunks;

  // FastCGI (fastcgi.cc): the one request the connection serves at a time, from its
  // FCGI_BEGIN_REQUEST until the FCGI_END_REQUEST tsgi writes (docs/protocol-fastcgi.md).
  struct FcgiRequest {
    uint16_t id = 0;  // requestId begun and not yet ended; 0 when none
    bool keep_conn = false;
    bool has_length = false;  // CONTENT_LENGTH was a number, which FCGI_STDIN must match
    uint64_t content_length = 0;
    std::string params;  // the FCGI_PARAMS stream so far, at most buffer-size bytes
  } fcgi;

  // Current request.
  uint32_t req_id = 0;
  uint32_t req_flags = 0;
  bool keep_alive = false;
  bool body_done = true;
  bool chunked = false;
  bool continue_pending = false;  // the interim 100 is the app's to send (WriteContinue)
  uint64_t body_remaining = 0;
  uint64_t body_received = 0;
  // The body being read straight into the app's buffer (ServerOptions::whole_body_max):
  // held from dispatch until the body is complete or the request ends (ReleaseWholeBody),
  // always with whole.size - whole.filled == body_remaining.
  WholeBody whole;
  // The request's head as read from the client (HTTP head, uwsgi header + vars block, SCGI
  // netstring, FastCGI FCGI_PARAMS content): with body_received, the scoreboard's rx.
  uint64_t rx_head_bytes = 0;
  // Minimum body rate (--min-body-rate): bytes received since body_clock_ms are counted
  // from body_clock_bytes; the clock restarts when the app resumes a paused input.
  uint64_t body_clock_ms = 0;
  uint64_t body_clock_bytes = 0;
  ChunkedDecoder chunk;
  ErrorCode deferred_error = ErrorCode::OK;  // a write error to report from the idle callback
  // A request whose response ended before its body did: the app's input still waits for
  // an end, which it gets (as an error) from the next non-JS callback on this connection.
  uint32_t orphan_input_id = 0;

  // Response.
  RespState resp = RespState::kNone;
  Framing framing = Framing::kLength;
  bool head_request = false;
  bool drain_wanted = false;
  uint64_t resp_body_bytes = 0;
  uint64_t resp_header_bytes = 0;
  uint32_t resp_header_count = 0;
  uint32_t resp_status = 0;
  // The app's own Content-Length (kNoDeclaredLength when it gave none): the body is cut
  // to it, and a body of any other length closes the connection (ResponseBody/Finish).
  uint64_t resp_declared = 0;
  bool resp_length_error = false;
  std::string out;     // bytes queued for the socket
  size_t out_off = 0;  // bytes of `out` already written

  // Log line material (copied at dispatch; see the buffer lifetime note above).
  std::string log_method, log_uri, log_proto;
  std::vector<std::string> log_captured;  // --log-format's request vars (RequestLog)
  uint32_t log_nvars = 0, log_pktsize = 0;
  time_t start_sec = 0;
  uint64_t start_us = 0;
};

inline bool OutputBacklogged(const Connection* c) {
  return c->out.size() - c->out_off >= kPipelineOutputCap;
}

// Called by Server on accept; takes ownership of fd.
Connection* ConnectionOpen(Server* s, int fd, const ListenerSpec* l, const char* addr, const char* port);
// Input side (connection.cc).
void ConnectionOnReadable(Connection* c);
void ConnectionProcess(Connection* c);  // parse/dispatch what is buffered, then read more
void ConnectionDispatchWaiting(Connection* c);
void ConnectionTimeout(Connection* c);
// Puts the connection on the deadline list its state waits on (connection.cc).
void ConnectionArmTimer(Connection* c);
void ConnectionRunDeferred(Connection* c);
void ConnectionClose(Connection* c);
void ConnectionUpdatePoll(Connection* c);
void ConnectionFail(Connection* c, ErrorCode err);
void NotifyOrphanInput(Connection* c);
// Drops the connection's hold on its whole-body buffer, if any (request.cc).
void ReleaseWholeBody(Connection* c);
// Output side (response.cc).
void ResponseBegin(Connection* c, const char* status, size_t status_len, const char* headers,
                   size_t headers_len, uint32_t flags, bool has_length, uint64_t length);
void ResponseBody(Connection* c, const char* data, size_t len);
// Ends the response. `trailers` ("Name: value\r\n" lines, validated by the caller) go
// after the last chunk of a chunked body (RFC 9112 7.1.2); any other framing has no place
// for them and drops them, as node:http does.
void ResponseFinish(Connection* c, const char* trailers = nullptr, size_t trailers_len = 0);
void ResponseWriteCanned(Connection* c, ErrorCode err);
bool ConnectionFlush(Connection* c);  // false when the connection was closed by an error
void ConnectionRequestDone(Connection* c, bool aborted);

}  // namespace tsgi

#endif  // TSGI_LOOP_CONNECTION_H_
