// Worker side of a router session: connect to the worker socket, send the uwsgi packet and
// the body, relay the response to the client, and decide whether the client connection can
// carry another request (RFC 9112 section 6.3 framing, scanned by proto/http1_response).
#include "router/relay.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "router/router.h"

namespace tsgi {

namespace {

constexpr size_t kHighWater = kRelayHighWater;
constexpr size_t kLowWater = kRelayLowWater;
// A worker response head larger than this is relayed as it is, close-delimited.
constexpr size_t kMaxResponseHead = 64 * 1024;
// How often a connect refused for a full worker backlog is tried again.
constexpr uint64_t kConnectRetryMs = 5;

struct WriteReq {
  uv_write_t req;  // first member: the uv_write_t* is the WriteReq*
  Session* s;
  bool to_client;
  std::string data;
};

void StartBackendRead(Session* s);

void OnBackendClosed(uv_handle_t* h) {
  Session* s = static_cast<Session*>(h->data);
  delete reinterpret_cast<RouterStream*>(h);
  if (--s->open_handles == 0) delete s;
}

void OnWritten(uv_write_t* req, int status) {
  WriteReq* w = reinterpret_cast<WriteReq*>(req);
  Session* s = w->s;
  bool to_client = w->to_client;
  size_t n = w->data.size();
  delete w;
  if (to_client)
    s->client_pending -= n;
  else
    s->backend_pending -= n;
  if (s->closed || s->router == nullptr || status == UV_ECANCELED) return;
  if (status < 0) {
    if (to_client) {
      CloseSessionNow(s);  // the client is gone
    } else {
      // The worker closed before taking the whole body (it may have answered early, e.g.
      // 413): its response is still read; this connection cannot be reused.
      s->keepalive = false;
    }
    return;
  }
  s->last_active = uv_now(s->router->loop());
  if (to_client) {
    s->client_progress_at = s->last_active;
    if (s->close_after_flush && s->client_pending == 0)
      ShutdownClient(s);
    else if (s->client_pending < kLowWater)
      StartBackendRead(s);
  } else if (s->backend_pending < kLowWater && s->body_left > 0) {
    ResumeClient(s);
  }
}

// Writes what the kernel takes now; copies the rest into a write request.
void Send(Session* s, uv_stream_t* st, bool to_client, const char* p, size_t n) {
  size_t& pending = to_client ? s->client_pending : s->backend_pending;
  if (pending == 0) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(p), static_cast<unsigned>(n));
    int r = uv_try_write(st, &b, 1);
    if (r >= 0 && static_cast<size_t>(r) == n) return;
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
    } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
      if (to_client)
        CloseSessionNow(s);
      else
        s->keepalive = false;
      return;
    }
  }
  WriteReq* w = new WriteReq();
  w->s = s;
  w->to_client = to_client;
  w->data.assign(p, n);
  uv_buf_t b = uv_buf_init(&w->data[0], static_cast<unsigned>(n));
  if (uv_write(&w->req, st, &b, 1, OnWritten) != 0) {
    delete w;
    if (to_client)
      CloseSessionNow(s);
    else
      s->keepalive = false;
    return;
  }
  // The client's clock starts when bytes first wait for it (OnWritten moves it on).
  if (to_client && pending == 0) s->client_progress_at = uv_now(s->router->loop());
  pending += n;
}

void KeepTail(Session* s, const char* p, size_t n) {
  if (n >= sizeof(s->tail)) {
    std::memcpy(s->tail, p + n - sizeof(s->tail), sizeof(s->tail));
    s->tail_len = sizeof(s->tail);
    return;
  }
  size_t keep = s->tail_len + n > sizeof(s->tail) ? sizeof(s->tail) - n : s->tail_len;
  std::memmove(s->tail, s->tail + s->tail_len - keep, keep);
  std::memcpy(s->tail + keep, p, n);
  s->tail_len = keep + n;
}

// Framing bookkeeping for body bytes relayed as they are: Content-Length left, the tail that
// shows a chunked body's last-chunk.
void AccountBody(Session* s, const char* p, size_t n) {
  switch (s->rh.framing) {
    case ResponseFraming::kLength:
      if (n > s->resp_left) s->keepalive = false;  // more than announced: close after it
      s->resp_left -= n < s->resp_left ? n : s->resp_left;
      break;
    case ResponseFraming::kChunked:
      KeepTail(s, p, n);
      break;
    case ResponseFraming::kNoBody:
      if (n > 0) s->keepalive = false;
      break;
    case ResponseFraming::kClose:
      break;
  }
}

// Appends body bytes to `out` as the client must get them: as they are, or as one chunk
// while the response is being re-chunked.
void AppendBody(Session* s, std::string* out, const char* p, size_t n) {
  if (n == 0) return;
  AccountBody(s, p, n);
  if (!s->auto_chunk) {
    out->append(p, n);
    return;
  }
  char size[24];
  int k = std::snprintf(size, sizeof(size), "%zx\r\n", n);
  out->append(size, static_cast<size_t>(k));
  out->append(p, n);
  out->append("\r\n", 2);
}

void RelayBody(Session* s, const char* p, size_t n) {
  if (n == 0) return;
  if (s->auto_chunk) {
    std::string framed;
    framed.reserve(n + 16);
    AppendBody(s, &framed, p, n);
    SendToClient(s, framed.data(), framed.size());
    return;
  }
  AccountBody(s, p, n);
  SendToClient(s, p, n);  // straight from the read buffer; copied only if the kernel refuses
}

// The worker's head is complete (`len` bytes of resp_head): decide the client framing, add
// the headers that keep it honest, and send the head with whatever body came with it in one
// write.
void StartResponse(Session* s, size_t len) {
  const HttpResponseHead& rh = s->rh;
  if (rh.connection_close || rh.version_minor == 0 || rh.status == 101) s->keepalive = false;
  // Re-chunking needs an HTTP/1.1 client, and a head without a Content-Length that the
  // chunked coding would contradict (an invalid or conflicting one makes it close-delimited).
  if (rh.framing == ResponseFraming::kClose && s->keepalive && s->http11 && !rh.has_content_length) {
    s->auto_chunk = true;  // uWSGI's --http-auto-chunked, always on while keeping alive
  } else if (rh.framing == ResponseFraming::kClose) {
    s->keepalive = false;
  }
  s->resp_left = rh.framing == ResponseFraming::kLength ? rh.content_length : 0;
  const char* extra = nullptr;
  if (s->auto_chunk)
    extra = "Transfer-Encoding: chunked\r\n";
  else if (!s->keepalive && !rh.connection_close && s->http11)
    extra = "Connection: close\r\n";
  const char* body = s->resp_head.data() + len;
  size_t body_len = s->resp_head.size() - len;
  if (extra == nullptr) {
    AccountBody(s, body, body_len);
    SendToClient(s, s->resp_head.data(), s->resp_head.size());
  } else {
    std::string out;
    out.reserve(s->resp_head.size() + 48);
    out.append(s->resp_head, 0, rh.headers_at);
    out.append(extra);
    out.append(s->resp_head, rh.headers_at, len - rh.headers_at);
    AppendBody(s, &out, body, body_len);
    SendToClient(s, out.data(), out.size());
  }
  s->resp_head.clear();
}

// Bytes from the worker (already counted in resp_bytes): gathered until the head is complete,
// then relayed.
void Relay(Session* s, const char* p, size_t n) {
  if (s->resp_head_done) {
    RelayBody(s, p, n);
  } else {
    s->resp_head.append(p, n);
    int64_t h = ScanHttpResponseHead(s->resp_head.data(), s->resp_head.size(), s->head_request, &s->rh);
    if (h == 0 && s->resp_head.size() < kMaxResponseHead) return;
    if (h > 0 && s->rh.status >= 100 && s->rh.status < 200 && s->rh.status != 101) {
      // An interim response (RFC 9110 15.2): relay it, then read the final head.
      size_t len = static_cast<size_t>(h);
      SendToClient(s, s->resp_head.data(), len);
      std::string rest = s->resp_head.substr(len);
      s->resp_head.clear();
      if (!s->closed && !rest.empty()) Relay(s, rest.data(), rest.size());
      return;
    }
    s->resp_head_done = true;
    if (h > 0) {
      StartResponse(s, static_cast<size_t>(h));
    } else {
      // Not an HTTP/1.x head we understand: pass it through and close after it.
      s->keepalive = false;
      s->rh.framing = ResponseFraming::kClose;
      SendToClient(s, s->resp_head.data(), s->resp_head.size());
      s->resp_head.clear();
    }
  }
  if (!s->closed && s->backend_reading && s->client_pending > kHighWater) {
    uv_read_stop(&s->backend->stream);
    s->backend_reading = false;
  }
}

bool Complete(Session* s) {
  switch (s->rh.framing) {
    case ResponseFraming::kNoBody:
      return true;
    case ResponseFraming::kLength:
      return s->resp_left == 0;
    case ResponseFraming::kChunked:
      // The last-chunk: "0" CRLF CRLF, after the CRLF that ends the previous chunk's data (a
      // size like "10" CRLF CRLF must not pass). Extensions or trailers make it close instead.
      // tail_len is the whole body's length while it is under 7.
      if (s->tail_len == 5) return std::memcmp(s->tail, "0\r\n\r\n", 5) == 0;
      return s->tail_len == 7 && std::memcmp(s->tail, "\r\n0\r\n\r\n", 7) == 0;
    case ResponseFraming::kClose:
      if (!s->auto_chunk) return false;
      SendToClient(s, "0\r\n\r\n", 5);
      return true;
  }
  return false;
}

// The worker closed its connection: the uwsgi protocol's end of response.
void ResponseEnded(Session* s, int err) {
  CloseBackend(s);
  if (s->resp_bytes == 0) {
    FailSession(s, ErrorCode::ROUTER_NO_RESPONSE, err != 0 ? uv_strerror(err) : nullptr);
    return;
  }
  if (err != 0) {
    // Reset mid-response: whatever the framing says, the client must see it cut short.
    CloseAfterFlush(s);
    return;
  }
  if (!s->resp_head_done) {
    SendToClient(s, s->resp_head.data(), s->resp_head.size());
    CloseAfterFlush(s);
    return;
  }
  bool complete = Complete(s);
  if (s->closed) return;
  RequestDone(s, complete && s->body_left == 0);
}

void AllocBackend(uv_handle_t* h, size_t, uv_buf_t* buf) {
  Session* s = static_cast<Session*>(h->data);
  *buf = uv_buf_init(s->router->read_buffer(), static_cast<unsigned>(s->router->read_buffer_size()));
}

void OnBackendRead(uv_stream_t* st, ssize_t nread, const uv_buf_t* buf) {
  Session* s = static_cast<Session*>(st->data);
  if (s->closed || s->router == nullptr || s->backend == nullptr || &s->backend->stream != st) return;
  if (nread > 0) {
    s->last_active = uv_now(s->router->loop());
    s->resp_bytes += static_cast<uint64_t>(nread);
    Relay(s, buf->base, static_cast<size_t>(nread));
  } else if (nread < 0) {
    ResponseEnded(s, nread == UV_EOF ? 0 : static_cast<int>(nread));
  }
}

void StartBackendRead(Session* s) {
  if (s->backend_reading || s->backend == nullptr || s->state != SessionState::kProxying) return;
  if (uv_read_start(&s->backend->stream, AllocBackend, OnBackendRead) == 0) s->backend_reading = true;
}

void Connected(Session* s);

// The router is out of descriptors (EMFILE/ENFILE): like a full backlog, the request waits
// and the connect is tried again, until a session closes and frees one or http-timeout
// passes (504). Returns false for any other error.
bool RetryForDescriptors(Session* s, int err) {
  if (err != EMFILE && err != ENFILE) return false;
  s->connect_retry = true;
  s->retry_for_fds = true;
  ArmTimer(s, kConnectRetryMs);
  return true;
}

void OnConnected(uv_connect_t* req, int status) {
  Session* s = static_cast<Session*>(req->data);
  if (s->closed || s->router == nullptr || status == UV_ECANCELED || s->backend == nullptr ||
      req->handle != &s->backend->stream) {
    return;
  }
  if (status < 0) {
    FailSession(s, ErrorCode::ROUTER_CONNECT_FAILED, uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&s->backend->tcp, 1);
  Connected(s);
}

// The worker connection is up: send the packet and the body read so far, read the answer.
void Connected(Session* s) {
  s->router->mutable_counters().requests++;
  s->state = SessionState::kProxying;
  ArmTimer(s, s->router->opts().timeout_ms);
  s->last_active = uv_now(s->router->loop());
  SendToBackend(s, s->packet.data(), s->packet.size());
  s->packet.clear();
  if (s->body_left > 0 && !s->in.empty()) {
    size_t k = s->in.size() < s->body_left ? s->in.size() : static_cast<size_t>(s->body_left);
    SendToBackend(s, s->in.data(), k);
    s->body_left -= k;
    s->in.erase(0, k);
  }
  StartBackendRead(s);
  ResumeClient(s);
}

// A UNIX connect completes or fails at once, so it is done here rather than through
// uv_pipe_connect, which would wait a loop turn for POLLOUT before the packet can go. A full
// backlog (EAGAIN, where TCP would silently retry its SYN) is retried every kConnectRetryMs
// until http-timeout: the request waits in the router instead of failing with 502.
void ConnectUnix(Session* s) {
  Router* r = s->router;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (RetryForDescriptors(s, errno)) return;
    FailSession(s, ErrorCode::ROUTER_CONNECT_FAILED, std::strerror(errno));
    return;
  }
  int rc;
  do {
    rc = connect(fd, r->backend_addr(), r->backend_addr_len());
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(fd);
    if (err == EAGAIN) {
      s->connect_retry = true;
      s->retry_for_fds = false;
      ArmTimer(s, kConnectRetryMs);
      return;
    }
    FailSession(s, ErrorCode::ROUTER_CONNECT_FAILED, std::strerror(err));
    return;
  }
  RouterStream* bs = new RouterStream();
  uv_pipe_init(r->loop(), &bs->pipe, 0);
  bs->handle.data = s;
  s->backend = bs;
  s->open_handles++;
  if (uv_pipe_open(&bs->pipe, fd) != 0) {
    close(fd);
    FailSession(s, ErrorCode::ROUTER_CONNECT_FAILED, "cannot watch the connection");
    return;
  }
  Connected(s);
}

}  // namespace

void SendToClient(Session* s, const char* p, size_t n) {
  if (s->closed || n == 0) return;
  Send(s, &s->client.stream, true, p, n);
}

void SendToBackend(Session* s, const char* p, size_t n) {
  if (s->closed || s->backend == nullptr || n == 0) return;
  Send(s, &s->backend->stream, false, p, n);
  if (s->backend_pending > kHighWater && s->client_reading) {
    uv_read_stop(&s->client.stream);
    s->client_reading = false;
  }
}

void ConnectBackend(Session* s) {
  if (s->closed) return;
  s->state = SessionState::kConnecting;
  s->connect_retry = false;
  if (s->connect_started == 0) s->connect_started = uv_now(s->router->loop());
  if (s->router->backend().is_unix) {
    ConnectUnix(s);
    return;
  }
  RouterStream* bs = new RouterStream();
  uv_tcp_init(s->router->loop(), &bs->tcp);
  bs->handle.data = s;
  s->backend = bs;
  s->open_handles++;
  int rc = uv_tcp_connect(&s->connect_req, &bs->tcp, s->router->backend_addr(), OnConnected);
  if (rc == 0) return;
  if (rc == UV_EMFILE || rc == UV_ENFILE) {
    CloseBackend(s);
    RetryForDescriptors(s, -rc);
    return;
  }
  FailSession(s, ErrorCode::ROUTER_CONNECT_FAILED, uv_strerror(rc));
}

void CloseBackend(Session* s) {
  if (s->backend == nullptr) return;
  if (s->backend_reading) uv_read_stop(&s->backend->stream);
  s->backend_reading = false;
  uv_close(&s->backend->handle, OnBackendClosed);
  s->backend = nullptr;
}

}  // namespace tsgi
