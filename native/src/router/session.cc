// Client side of a router session: accept, read, parse the head, build the uwsgi packet,
// timeouts and close. The worker side (connect, forward, relay the response) is in relay.cc.
#include "router/session.h"

#include <unistd.h>

#include <cstring>

#include "common/errors.h"
#include "proto/uwsgi.h"
#include "proto/vars.h"
#include "router/relay.h"
#include "router/router.h"

namespace tsgi {

namespace {

// Bytes buffered from a client beyond the request being forwarded (pipelined requests)
// before the router stops reading from it.
constexpr size_t kMaxPipelined = 64 * 1024;
// After the FIN that ends a connection, what the client still sends is read and dropped for
// this long, so the close does not reset a connection whose answer is still unread.
constexpr uint64_t kLingerMs = 2000;

void OnHandleClosed(uv_handle_t* h) {
  Session* s = static_cast<Session*>(h->data);
  if (--s->open_handles == 0) delete s;
}

void OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  Session* s = static_cast<Session*>(h->data);
  if (s->router == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(s->router->read_buffer(), static_cast<unsigned>(s->router->read_buffer_size()));
}

void OnClientRead(uv_stream_t* st, ssize_t nread, const uv_buf_t* buf);

// Whether request body bytes are still to come from the client (not merely still to be sent
// to the worker: bytes that arrived while connecting wait in `in`).
bool BodyOwed(const Session* s) {
  switch (s->state) {
    case SessionState::kChunkedBody:
      return true;
    case SessionState::kConnecting:
      return s->body_left > s->in.size();
    case SessionState::kProxying:
      return s->body_left > 0;
    default:
      return false;
  }
}

// "127.0.0.1 (GET /x)": who and, once a head was parsed, what; for the log lines.
std::string Who(const Session* s) {
  std::string who = s->remote_addr.empty() ? std::string("unix client") : s->remote_addr;
  if (!s->what.empty() && s->state != SessionState::kHead) {
    who += " (";
    who += s->what;
    who += ")";
  }
  return who;
}

// Closes a connection whose response had started and cannot be finished (nothing can be
// answered any more), with one log line saying why. Closing the worker connection too makes
// the app's next write fail, which frees its slot (docs/router.md, "Timeouts").
void DropSession(Session* s, ErrorCode code) {
  Router* r = s->router;
  r->mutable_counters().errors++;
  std::string line = "tsgi http router: closed the connection of " + Who(s) + ": " + ErrorReason(code) +
                     " (" + std::to_string(r->opts().timeout_ms / 1000) + " s; " +
                     std::to_string(s->resp_bytes) + " response bytes from the worker, " +
                     std::to_string(s->client_pending) + " unsent)";
  r->Log(line);
  CloseSessionNow(s);
}

// When the current wait ends (loop time), by state: the whole head is due http-timeout after
// it began; an idle keep-alive connection waits keepalive_ms; everything else (a body, the
// worker's answer, the final flush) may stall for http-timeout since the last byte moved.
uint64_t Deadline(const Session* s, const RouterOptions& o) {
  if (s->lingering) return s->last_active + kLingerMs;
  if (s->state == SessionState::kHead) {
    if (s->in.empty() && s->requests > 0) return s->last_active + o.keepalive_ms;
    return s->head_started + o.timeout_ms;
  }
  return s->last_active + o.timeout_ms;
}

void OnTimer(uv_timer_t* t) {
  Session* s = static_cast<Session*>(t->data);
  if (s->closed || s->router == nullptr) return;
  const RouterOptions& o = s->router->opts();
  uint64_t now = uv_now(s->router->loop());
  if (s->connect_retry) {
    if (now - s->connect_started >= o.timeout_ms) {
      s->connect_retry = false;
      FailSession(s, ErrorCode::ROUTER_TIMEOUT,
                  s->retry_for_fds ? "the router stayed out of file descriptors"
                                   : "the worker socket's backlog stayed full");
    } else {
      ConnectBackend(s);
    }
    return;
  }
  // A client that takes none of the bytes queued for it for http-timeout is dropped in any
  // state; every write that completes moves its clock (a slow reader is never cut).
  bool client_owed = s->client_pending > 0 && !s->lingering;
  uint64_t client_due = client_owed ? s->client_progress_at + o.timeout_ms : UINT64_MAX;
  if (now >= client_due) {
    DropSession(s, ErrorCode::ROUTER_CLIENT_STALLED);
    return;
  }
  uint64_t due = Deadline(s, o);
  if (now < due) {
    ArmTimer(s, (due < client_due ? due : client_due) - now);
    return;
  }
  switch (s->state) {
    case SessionState::kHead:
      if (s->in.empty())
        CloseSessionNow(s);
      else
        FailSession(s, ErrorCode::HTTP_HEAD_TIMEOUT);
      return;
    case SessionState::kChunkedBody:
      FailSession(s, ErrorCode::HTTP_BODY_TIMEOUT);
      return;
    case SessionState::kConnecting:
    case SessionState::kProxying:
      if (s->resp_bytes > 0)
        DropSession(s, ErrorCode::ROUTER_RESPONSE_STALLED);
      else if (BodyOwed(s))
        FailSession(s, ErrorCode::HTTP_BODY_TIMEOUT);
      else
        FailSession(s, ErrorCode::ROUTER_TIMEOUT);
      return;
    case SessionState::kClosing:
      CloseSessionNow(s);
      return;
  }
}

void PeerName(Session* s) {
  if (s->listener->is_unix) return;
  sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_tcp_getpeername(&s->client.tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  char host[64] = {0};
  if (ss.ss_family == AF_INET6) {
    const sockaddr_in6* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, host, sizeof(host));
    // Host byte order: uWSGI's router forgets ntohs() here (plugins/corerouter/corerouter.c).
    s->remote_port = std::to_string(ntohs(a->sin6_port));
  } else {
    const sockaddr_in* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, host, sizeof(host));
    s->remote_port = std::to_string(ntohs(a->sin_port));
  }
  s->remote_addr = host;
}

// Encodes the vars (blob + 4 offsets each, proto/vars.h) as a uwsgi packet header and block.
// With `content_length`, that value replaces CONTENT_LENGTH (a de-chunked body's length).
// A block larger than the workers' --buffer-size (they would refuse it) is 414 when the vars
// the request line makes, without any HTTP_* header var, are already too large, else 431:
// the same rule as --http-socket, where the buffer holds the head (docs/http.md).
ErrorCode EncodePacket(Session* s, const std::string& blob, const uint32_t* meta, size_t nvars,
                       const std::string* content_length) {
  UwsgiVar vars[16 + kMaxHeaders];
  if (nvars > sizeof(vars) / sizeof(vars[0])) return ErrorCode::ROUTER_PACKET_TOO_LARGE;
  size_t line_block = 0;  // the vars that do not come from header fields
  for (size_t i = 0; i < nvars; i++) {
    const uint32_t* m = meta + i * 4;
    vars[i].key = Span{blob.data() + m[0], m[1] - m[0]};
    vars[i].value = Span{blob.data() + m[2], m[3] - m[2]};
    if (content_length && vars[i].key.len == 14 && std::memcmp(vars[i].key.data, "CONTENT_LENGTH", 14) == 0) {
      vars[i].value = Span{content_length->data(), content_length->size()};
    }
    bool header = vars[i].key.len > 5 && std::memcmp(vars[i].key.data, "HTTP_", 5) == 0;
    if (!header) line_block += 4 + vars[i].key.len + vars[i].value.len;
  }
  const RouterOptions& o = s->router->opts();
  size_t total = EncodeUwsgiPacket(o.modifier1, o.modifier2, vars, nvars, nullptr, 0);
  if (total == 0 || total - kUwsgiHeaderSize > o.buffer_size) {
    return line_block > o.buffer_size ? ErrorCode::HTTP_URI_TOO_LONG : ErrorCode::ROUTER_PACKET_TOO_LARGE;
  }
  s->packet.resize(total);
  EncodeUwsgiPacket(o.modifier1, o.modifier2, vars, nvars, &s->packet[0], total);
  return ErrorCode::OK;
}

void ResetRequest(Session* s) {
  s->keepalive = false;
  s->head_request = false;
  s->body_left = 0;
  s->packet.clear();
  s->dechunk = ChunkedDecoder{};
  s->body.clear();
  s->vars_blob.clear();
  s->vars_meta.clear();
  s->nvars = 0;
  s->resp_bytes = 0;
  s->resp_head.clear();
  s->resp_head_done = false;
  s->rh = HttpResponseHead{};
  s->auto_chunk = false;
  s->resp_left = 0;
  s->tail_len = 0;
  s->connect_retry = false;
  s->retry_for_fds = false;
  s->connect_started = 0;
}

void PauseClient(Session* s) {
  if (!s->client_reading) return;
  uv_read_stop(&s->client.stream);
  s->client_reading = false;
}

// Reads a chunked body from `in` into `body`; when it ends, the packet is built with the
// body's real length and the worker connection starts. nginx does the same with
// uwsgi_pass (request buffering): the uwsgi protocol needs CONTENT_LENGTH up front.
void ContinueChunked(Session* s) {
  const RouterOptions& o = s->router->opts();
  size_t at = 0;
  ErrorCode err = ErrorCode::OK;
  bool too_large = false;
  ChunkedStatus st =
      ChunkedDecodeAll(&s->dechunk, s->in.data(), s->in.size(), ChunkedLimits{}, &at, &err, [&](Span data) {
        too_large = s->body.size() + data.len > o.max_chunked_body;
        if (!too_large) s->body.append(data.data, data.len);
        return !too_large;
      });
  if (st == ChunkedStatus::kError || too_large) {
    FailSession(s, too_large ? ErrorCode::ROUTER_BODY_TOO_LARGE : err);
    return;
  }
  s->in.erase(0, at);
  if (st == ChunkedStatus::kNeedMore) return;
  std::string length = std::to_string(s->body.size());
  err = EncodePacket(s, s->vars_blob, s->vars_meta.data(), s->nvars, &length);
  if (err != ErrorCode::OK) {
    FailSession(s, err);
    return;
  }
  s->packet.append(s->body);
  s->body.clear();
  s->body.shrink_to_fit();
  ConnectBackend(s);
}

void HandleHead(Session* s) {
  Router* r = s->router;
  const RouterOptions& o = r->opts();
  HttpParseOptions popts;
  popts.max_head_size = o.max_head;
  // The workers' rule (--http-socket, docs/http.md): a target that leaves no room in
  // --buffer-size for the rest of a minimal request line is 414, whatever follows it.
  popts.max_target_len = o.buffer_size > 32 ? o.buffer_size - 32 : o.buffer_size;
  HttpRequestHead* head = r->scratch_head();
  ErrorCode err = ErrorCode::OK;
  // A head that arrives in pieces is scanned from where the previous read stopped; one
  // scanned whole in this call fills `head` on the way, a resumed one is parsed once more.
  bool fresh = s->head_scan.pos == 0 && s->head_scan.result == 0;
  int64_t n =
      ScanHttpRequestHead(s->in.data(), s->in.size(), popts, &s->head_scan, fresh ? head : nullptr, &err);
  if (n == 0) {
    if (s->client_eof) CloseAfterFlush(s);  // a partial head that can never complete
    return;
  }
  if (n < 0) {
    FailSession(s, err);
    return;
  }
  s->head_scan = HttpHeadScan{};
  if (!fresh && ParseHttpRequestHead(s->in.data(), static_cast<size_t>(n), popts, head, &err) != n) {
    // Cannot happen: the same bytes gave the scan this head. Refused rather than trusted.
    FailSession(s, err == ErrorCode::OK ? ErrorCode::HTTP_BAD_REQUEST_LINE : err);
    return;
  }
  ResetRequest(s);
  s->state = SessionState::kConnecting;
  s->requests++;
  s->keepalive = o.keepalive && head->keep_alive && !r->stopping();
  s->head_request = head->method.len == 4 && std::memcmp(head->method.data, "HEAD", 4) == 0;
  s->http11 = head->version_minor == 1;
  s->what.assign(head->method.data, head->method.len);
  s->what.push_back(' ');
  s->what.append(head->target.data, head->target.len < 200 ? head->target.len : 200);

  std::vector<uint32_t>* meta = r->scratch_meta();
  std::string* blob = r->scratch_blob();
  blob->clear();
  PeerInfo peer{&s->remote_addr, &s->remote_port, s->listener};
  VarsOut out{blob, meta->data(), meta->size() / 4};
  err = BuildHttpVars(*head, peer, &out);
  if (err != ErrorCode::OK) {
    FailSession(s, err);
    return;
  }
  bool chunked = head->framing == BodyFraming::kChunked;
  bool body_to_come = chunked || (head->framing == BodyFraming::kLength &&
                                  head->content_length > s->in.size() - static_cast<size_t>(n));
  // RFC 9110 10.1.1: the worker behind uwsgi never sees the client's wait, so the router
  // answers 100 Continue itself when the body has not been sent yet.
  if (head->expect_continue && body_to_come && s->http11) {
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    SendToClient(s, kContinue, sizeof(kContinue) - 1);
    if (s->closed) return;
  }
  if (chunked) {
    s->vars_blob = *blob;
    s->vars_meta.assign(meta->begin(), meta->begin() + static_cast<long>(out.nvars * 4));
    s->nvars = out.nvars;
    s->in.erase(0, static_cast<size_t>(n));
    s->state = SessionState::kChunkedBody;
    ContinueChunked(s);
    return;
  }
  err = EncodePacket(s, *blob, meta->data(), out.nvars, nullptr);
  if (err != ErrorCode::OK) {
    FailSession(s, err);
    return;
  }
  s->in.erase(0, static_cast<size_t>(n));
  s->body_left = head->framing == BodyFraming::kLength ? head->content_length : 0;
  ConnectBackend(s);
}

void HandleClientBytes(Session* s, const char* p, size_t n) {
  switch (s->state) {
    case SessionState::kHead:
      if (s->in.empty() && s->requests > 0) {
        // The first byte of the next head: from now on the whole head is due within
        // http-timeout, however slowly the rest arrives (no slowloris).
        s->head_started = uv_now(s->router->loop());
        ArmTimer(s, s->router->opts().timeout_ms);
      }
      s->in.append(p, n);
      HandleHead(s);
      break;
    case SessionState::kChunkedBody:
      s->in.append(p, n);
      ContinueChunked(s);
      break;
    case SessionState::kProxying:
      if (s->body_left > 0) {
        size_t k = n < s->body_left ? n : static_cast<size_t>(s->body_left);
        SendToBackend(s, p, k);
        s->body_left -= k;
        p += k;
        n -= k;
      }
      s->in.append(p, n);
      break;
    case SessionState::kConnecting:
      s->in.append(p, n);
      break;
    case SessionState::kClosing:
      return;  // draining after an error answer
  }
  bool forwarding = s->state == SessionState::kConnecting || s->state == SessionState::kProxying;
  if (!s->closed && forwarding && s->in.size() > kMaxPipelined) {
    PauseClient(s);
  }
}

void OnClientRead(uv_stream_t* st, ssize_t nread, const uv_buf_t* buf) {
  Session* s = static_cast<Session*>(st->data);
  if (s->closed || s->router == nullptr) return;
  if (nread > 0) {
    // Bytes dropped while closing do not extend the connection's life.
    if (s->state != SessionState::kClosing) s->last_active = uv_now(s->router->loop());
    HandleClientBytes(s, buf->base, static_cast<size_t>(nread));
    return;
  }
  if (nread == 0) return;
  // EOF or error. While its body is still owed, the client is gone. Otherwise (half-close)
  // the response under way and what is queued are still delivered, and complete pipelined
  // requests already read are still served.
  PauseClient(s);
  s->client_eof = true;
  if (nread != UV_EOF || BodyOwed(s) || s->lingering) {
    CloseSessionNow(s);
  } else if (s->state == SessionState::kHead) {
    if (s->in.empty())
      CloseAfterFlush(s);
    else
      HandleHead(s);
  }
}

void OnShutdown(uv_shutdown_t* req, int status) {
  Session* s = static_cast<Session*>(req->data);
  if (s->closed) return;
  if (status != 0 || s->client_eof) {
    CloseSessionNow(s);
    return;
  }
  s->lingering = true;
  s->last_active = uv_now(s->router->loop());
  ArmTimer(s, kLingerMs);
  ResumeClient(s);
}

}  // namespace

void ArmTimer(Session* s, uint64_t ms) {
  uv_timer_start(&s->timer, OnTimer, ms, 0);
}

Session* AcceptSession(Router* r, int fd, const ListenerSpec* spec) {
  Session* s = new Session();
  s->router = r;
  s->listener = spec;
  int rc =
      spec->is_unix ? uv_pipe_init(r->loop(), &s->client.pipe, 0) : uv_tcp_init(r->loop(), &s->client.tcp);
  s->client.handle.data = s;
  if (rc != 0) {
    ::close(fd);
    delete s;
    return nullptr;
  }
  s->open_handles = 1;
  rc = spec->is_unix ? uv_pipe_open(&s->client.pipe, fd) : uv_tcp_open(&s->client.tcp, fd);
  if (rc != 0) {
    ::close(fd);
    s->closed = true;
    uv_close(&s->client.handle, OnHandleClosed);
    return nullptr;
  }
  uv_timer_init(r->loop(), &s->timer);
  s->timer.data = s;
  s->open_handles = 2;
  s->connect_req.data = s;
  s->shutdown_req.data = s;
  PeerName(s);
  s->last_active = uv_now(r->loop());
  s->head_started = s->last_active;  // the first head is due http-timeout after accept
  ArmTimer(s, r->opts().timeout_ms);
  ResumeClient(s);
  return s;
}

void ResumeClient(Session* s) {
  if (s->client_reading || s->client_eof || s->closed) return;
  bool forwarding = s->state == SessionState::kConnecting || s->state == SessionState::kProxying;
  if (forwarding && (s->in.size() > kMaxPipelined || s->backend_pending > kRelayHighWater)) return;
  if (uv_read_start(&s->client.stream, OnAlloc, OnClientRead) == 0) s->client_reading = true;
}

void RequestDone(Session* s, bool reusable) {
  if (reusable && s->keepalive && (!s->client_eof || !s->in.empty()) && !s->router->stopping()) {
    ResetRequest(s);
    s->state = SessionState::kHead;
    s->last_active = uv_now(s->router->loop());
    s->head_started = s->last_active;  // matters when pipelined bytes are already waiting
    ArmTimer(s, s->in.empty() ? s->router->opts().keepalive_ms : s->router->opts().timeout_ms);
    ResumeClient(s);
    if (!s->in.empty()) HandleHead(s);
    return;
  }
  CloseAfterFlush(s);
}

void CloseAfterFlush(Session* s) {
  if (s->closed) return;
  CloseBackend(s);
  s->state = SessionState::kClosing;
  s->close_after_flush = true;
  // The flush is bounded too: a client that never reads is dropped after http-timeout.
  s->last_active = uv_now(s->router->loop());
  ArmTimer(s, s->router->opts().timeout_ms);
  if (s->client_pending == 0) ShutdownClient(s);
}

void ShutdownClient(Session* s) {
  s->close_after_flush = false;
  // FIN after the last byte, so a client still sending does not get its answer reset.
  if (uv_shutdown(&s->shutdown_req, &s->client.stream, OnShutdown) != 0) CloseSessionNow(s);
}

void FailSession(Session* s, ErrorCode code, const char* detail) {
  if (s->closed) return;
  Router* r = s->router;
  r->mutable_counters().errors++;
  int status = ErrorStatus(code);
  std::string line = "tsgi http router: ";
  line += std::to_string(status);
  line += " for ";
  line += Who(s);
  line += ": ";
  line += ErrorReason(code);
  if (code == ErrorCode::ROUTER_CONNECT_FAILED || code == ErrorCode::ROUTER_NO_RESPONSE ||
      code == ErrorCode::ROUTER_TIMEOUT) {
    line += " ";
    line += r->backend().name;
  }
  if (detail != nullptr) {
    line += ": ";
    line += detail;
  }
  r->Log(line);
  CloseBackend(s);
  if (s->resp_bytes > 0) {
    CloseSessionNow(s);  // a response was under way: the client sees it cut short
    return;
  }
  size_t len = 0;
  const char* canned = CannedResponse(status, &len);
  s->state = SessionState::kClosing;
  SendToClient(s, canned, len);
  CloseAfterFlush(s);
}

void StopSession(Session* s) {
  if (s->closed) return;
  if (s->state == SessionState::kHead && s->in.empty()) {
    CloseAfterFlush(s);  // idle, though the end of its last response may still be queued
    return;
  }
  s->keepalive = false;
}

void CloseSessionNow(Session* s) {
  if (s->closed) return;
  s->closed = true;
  if (s->router != nullptr) s->router->Forget(s);
  CloseBackend(s);
  uv_timer_stop(&s->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->timer), OnHandleClosed);
  uv_close(&s->client.handle, OnHandleClosed);
}

}  // namespace tsgi
