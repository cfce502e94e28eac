// One client connection of the router and the request it is forwarding. A session owns the
// client stream, a timer, and for each request a fresh worker connection (uWSGI's router
// also opens one per request: the uwsgi protocol carries one request per connection).
//
// Buffer lifetimes: bytes read from either side live in the Router's shared read buffer
// only until the read callback returns; whatever must outlive it is copied into `in`
// (client bytes not yet forwarded: a partial head, body bytes that arrived before the worker
// connection, pipelined requests) or into a write request (bytes the kernel did not take).
// A session is freed only after all its handles have closed, so every write and connect
// callback still finds it.
#ifndef TSGI_ROUTER_SESSION_H_
#define TSGI_ROUTER_SESSION_H_

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/listener_spec.h"
#include "proto/chunked.h"
#include "proto/http1.h"
#include "proto/http1_response.h"

namespace tsgi {

class Router;

union RouterStream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
};

enum class SessionState : uint8_t {
  kHead,         // reading a request head (or idle between requests)
  kChunkedBody,  // de-chunking a request body into `body` before the packet can be sent
  kConnecting,   // connecting to the worker; body bytes wait in `in`
  kProxying,     // request forwarded (body may still be streaming), response relayed back
  kClosing,      // flushing the last bytes to the client, then closing
};

struct Session {
  Router* router;    // null once the router is destroyed
  size_t index = 0;  // position in the router's session list
  const ListenerSpec* listener = nullptr;
  RouterStream client;
  RouterStream* backend = nullptr;  // the current request's worker connection
  uv_timer_t timer;
  uv_connect_t connect_req;
  uv_shutdown_t shutdown_req;
  int open_handles = 0;
  bool closed = false;
  SessionState state = SessionState::kHead;

  std::string in;
  HttpHeadScan head_scan;  // how far the head at the start of `in` has been scanned
  std::string remote_addr;
  std::string remote_port;
  uint64_t last_active = 0;         // loop time of the last byte moved in either direction
  uint64_t head_started = 0;        // loop time the current head began (accept, or its first byte
                                    // after an idle keep-alive wait): the whole head is due by
                                    // head_started + http-timeout, however slowly it trickles in
  uint64_t client_progress_at = 0;  // while client_pending > 0: loop time the client last took
                                    // bytes (or the queue started); http-timeout after it, it is dropped
  size_t client_pending = 0;        // bytes handed to libuv for the client, not yet written
  size_t backend_pending = 0;       // same towards the worker
  bool client_reading = false;
  bool backend_reading = false;
  bool client_eof = false;
  bool close_after_flush = false;
  bool lingering = false;  // FIN sent; reading and dropping until EOF or kLingerMs
  uint32_t requests = 0;

  // The request being forwarded.
  bool keepalive = false;
  bool head_request = false;
  bool http11 = true;
  uint64_t body_left = 0;        // Content-Length body bytes not yet sent to the worker
  bool connect_retry = false;    // the worker's backlog was full: the timer connects again
  bool retry_for_fds = false;    // ...or the router was out of descriptors
  uint64_t connect_started = 0;  // loop time of the first connect attempt (0 = none yet)
  std::string what;              // "METHOD target" (truncated) for log lines
  std::string packet;            // uwsgi header + vars (+ the de-chunked body), sent on connect
  ChunkedDecoder dechunk;
  std::string body;       // de-chunked request body
  std::string vars_blob;  // vars kept while a chunked body is read (CONTENT_LENGTH comes last)
  std::vector<uint32_t> vars_meta;
  size_t nvars = 0;

  // Its response.
  uint64_t resp_bytes = 0;  // bytes received from the worker
  std::string resp_head;    // buffered until the head is complete
  bool resp_head_done = false;
  HttpResponseHead rh;
  bool auto_chunk = false;
  uint64_t resp_left = 0;  // Content-Length body bytes still expected
  char tail[7];            // last bytes of a chunked body, to see its last-chunk
  size_t tail_len = 0;     // under 7 only while the whole body is shorter
};

// Wraps a connection the router accepted (fd, non-blocking) into a new session; null (and
// the fd closed) if libuv cannot take it.
Session* AcceptSession(Router* r, int fd, const ListenerSpec* spec);
// Graceful stop of one session: an idle connection closes now, a busy one after its response.
void StopSession(Session* s);
// Closes every handle of the session now; it is freed once they have closed.
void CloseSessionNow(Session* s);

}  // namespace tsgi

#endif  // TSGI_ROUTER_SESSION_H_
