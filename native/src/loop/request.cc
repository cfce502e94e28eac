// Request side of a connection: parsing heads (HTTP and uwsgi), --post-buffering, taking an
// app slot, dispatching to the app and streaming the body to it. Reading, timeouts and close
// are in connection.cc, the response in response.cc.
#include "loop/request.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "proto/http1.h"
#include "proto/scgi.h"
#include "proto/uwsgi.h"
#include "proto/vars.h"

namespace tsgi {

namespace {

uint64_t MonotonicMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

void ResetRequest(Connection* c) {
  c->req_id = 0;
  c->req_flags = 0;
  c->keep_alive = false;
  c->body_done = true;
  c->chunked = false;
  c->continue_pending = false;
  c->body_remaining = 0;
  c->body_received = 0;
  c->rx_head_bytes = 0;
  c->chunk = ChunkedDecoder{};
  c->resp = RespState::kNone;
  c->framing = Framing::kLength;
  c->head_request = false;
  c->drain_wanted = false;
  c->input_paused = false;
  c->buffering_body = false;
  c->resp_body_bytes = 0;
  c->resp_header_bytes = 0;
  c->resp_header_count = 0;
  c->resp_status = 0;
  c->resp_declared = kNoDeclaredLength;
  c->resp_length_error = false;
}

namespace {

const char* InputKind(Protocol p) {
  switch (p) {
    case Protocol::kHttp:
      return "HTTP request";
    case Protocol::kUwsgi:
      return "uwsgi packet";
    case Protocol::kFastcgi:
      return "FastCGI request";
    case Protocol::kScgi:
      return "SCGI request";
  }
  return "request";
}

}  // namespace

void Refuse(Connection* c, ErrorCode err, const char* detail) {
  Server* s = c->server;
  s->mutable_counters().bad_requests++;
  char line[320];
  int n = snprintf(line, sizeof line, "tsgi: %s from %s: %s (%s)%s%s -> %d", InputKind(c->protocol),
                   c->remote_addr.empty() ? "unix socket" : c->remote_addr.c_str(), ErrorReason(err),
                   ErrorName(err), detail ? " " : "", detail ? detail : "", ErrorStatus(err));
  if (n > 0) s->log().AppendLine(line, std::min(static_cast<size_t>(n), sizeof line - 1));
  c->pending_in.clear();
  ResponseWriteCanned(c, err);
}

void RememberForLog(Connection* c, Span method, Span uri, Span proto, size_t nvars, uint32_t pktsize) {
  c->log_method.assign(method.data, method.len);
  c->log_uri.assign(uri.data, uri.len);
  c->log_proto.assign(proto.data, proto.len);
  c->log_nvars = static_cast<uint32_t>(nvars);
  c->log_pktsize = pktsize;
  c->start_sec = time(nullptr);
  c->start_us = MonotonicMicros();
}

namespace {

// --log-format's request vars, copied from the blob before the app sees it (the last of a
// repeated name wins, as in the environ). Only done when the format names some.
void CaptureForLog(Connection* c, size_t nvars) {
  Server* s = c->server;
  const std::vector<std::string>& names = s->opts().log_format.captured;
  c->log_captured.resize(names.size());
  const std::string& blob = s->blob();
  const uint32_t* meta = s->meta();
  for (size_t n = 0; n < names.size(); n++) {
    c->log_captured[n].clear();
    for (size_t i = 0; i < nvars; i++) {
      const uint32_t* m = meta + i * 4;
      if (m[1] - m[0] == names[n].size() && blob.compare(m[0], m[1] - m[0], names[n]) == 0) {
        c->log_captured[n].assign(blob, m[2], m[3] - m[2]);
      }
    }
  }
}

}  // namespace

namespace {

// A Content-Length body still arriving and small enough goes to the app in one buffer of its
// length, read into in place (ServerOptions::whole_body_max). FastCGI's body comes in
// records and a chunked one has no length up front: both stream.
bool WantWholeBody(const Connection* c) {
  size_t max = c->server->opts().whole_body_max;
  return max != 0 && !c->body_done && !c->chunked && c->protocol != Protocol::kFastcgi &&
         c->body_received + c->body_remaining <= max;
}

}  // namespace

void ReleaseWholeBody(Connection* c) {
  if (c->whole.handle != nullptr) c->server->sink()->ReleaseWholeBody(&c->whole);
  c->whole = WholeBody{};
}

namespace {

// Right after the head, the rest of a body that came with it is usually in the socket
// already: one read straight into the whole body's buffer often completes it, and the app
// then gets the body done with the request (no onData call, no waiting in the app layer).
// Only when no bytes are buffered behind the ones taken (pending_in empty: the initial body
// used every byte this pass read), or the socket's bytes would overtake them. A failure or
// EOF is left in the socket for the next read to meet.
void ReadAhead(Connection* c) {
  WholeBody& w = c->whole;
  if (!c->pending_in.empty() || c->body_remaining == 0) return;
  ssize_t n;
  do {
    n = ::read(c->fd, w.data + w.filled, static_cast<size_t>(c->body_remaining));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return;
  w.filled += static_cast<size_t>(n);
  c->body_remaining -= static_cast<uint64_t>(n);
  c->body_received += static_cast<uint64_t>(n);
  if (c->body_remaining == 0) c->body_done = true;
}

// Sets up the whole body's buffer for the request being dispatched (WantWholeBody) and
// reads ahead into it when bytes came with the head. False: the body streams.
bool StartWholeBody(Connection* c, const char* body, size_t body_len) {
  c->whole = WholeBody{};
  c->whole.size = static_cast<size_t>(c->body_received + c->body_remaining);
  if (!c->server->sink()->AllocWholeBody(&c->whole, body, body_len)) {
    c->whole = WholeBody{};
    return false;
  }
  if (body_len > 0) ReadAhead(c);
  return true;
}

}  // namespace

void Dispatch(Connection* c, uint32_t flags, size_t nvars, const char* body, size_t body_len) {
  Server* s = c->server;
  if (!s->opts().log_format.captured.empty()) CaptureForLog(c, nvars);
  c->req_id = s->RegisterRequest(c);
  const WholeBody* whole = WantWholeBody(c) && StartWholeBody(c, body, body_len) ? &c->whole : nullptr;
  c->state = c->body_done ? ConnState::kAwaiting : ConnState::kBody;
  if (c->body_done) flags |= kReqBodyDone;
  if (whole != nullptr && !c->body_done) flags |= kReqBodyWhole;
  if (c->keep_alive) flags |= kReqKeepAlive;
  if (c->chunked) flags |= kReqChunked;
  flags |= s->shapes().Lookup(s->blob(), s->meta(), nvars) << kReqShapeShift;
  c->req_flags = flags;
  if (s->harakiri()) s->harakiri()->Begin(c->req_id, c->fd, c->log_method, c->log_uri);
  ConnectionArmTimer(c);
  if (s->opts().scoreboard.core) {
    ScoreboardRequestStart(s->opts().scoreboard, c->req_id, static_cast<uint64_t>(c->start_sec), c->start_us,
                           s->blob().data(), s->meta(), nvars);
  }
  s->sink()->OnRequest(c->req_id, flags, s->blob(), nvars, body, body_len, whole);
  // A body read whole before the dispatch went with it: native writes into it no more.
  if (c->body_done) ReleaseWholeBody(c);
  s->DispatchedRequest();
}

namespace {

// Body bytes available at dispatch time, set in *body: for Content-Length, what is
// buffered up to the length (a span of `data`, valid until the dispatch copies it); for
// chunked, everything decodable now (decoded into `scratch`).
// Returns bytes consumed from data, or -1 after refusing a malformed chunked body.
long TakeInitialBody(Connection* c, const char* data, size_t len, std::string* scratch, Span* body) {
  scratch->clear();  // the scratch is per thread: never let one request see another's body
  *body = Span{};
  if (c->body_done) return 0;
  if (!c->chunked) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(c->body_remaining, len));
    *body = Span{data, take};
    c->body_remaining -= take;
    c->body_received += take;
    if (c->body_remaining == 0) c->body_done = true;
    return static_cast<long>(take);
  }
  size_t off = 0;
  ErrorCode err = ErrorCode::OK;
  ChunkedStatus st =
      ChunkedDecodeAll(&c->chunk, data, len, ChunkedLimits(), &off, &err, [scratch](Span piece) {
        scratch->append(piece.data, piece.len);
        return true;
      });
  if (st == ChunkedStatus::kError) {
    Refuse(c, err);
    return -1;
  }
  if (st == ChunkedStatus::kDone) c->body_done = true;
  c->body_received += scratch->size();
  uint64_t limit = c->server->opts().limit_post;
  if (limit && c->body_received > limit) {
    Refuse(c, ErrorCode::HTTP_BODY_TOO_LARGE);
    return -1;
  }
  *body = Span{scratch->data(), scratch->size()};
  return static_cast<long>(off);
}

}  // namespace

bool TakeSlot(Connection* c) {
  Server* s = c->server;
  if (c->slot_reserved) {
    c->slot_reserved = false;
    s->SlotReservationUsed();
    return true;
  }
  if (s->AcquireSlot(c)) return true;
  c->state = ConnState::kWaitSlot;
  return false;
}

bool BodyTooSlow(const Connection* c, uint64_t bytes) {
  const ServerOptions& o = c->server->opts();
  if (o.min_body_rate == 0) return false;
  uint64_t elapsed = uv_now(c->server->loop()) - c->body_clock_ms;
  if (elapsed <= o.socket_timeout_ms) return false;
  return (bytes - c->body_clock_bytes) * 1000 < o.min_body_rate * elapsed;
}

void StartBodyClock(Connection* c, uint64_t bytes) {
  c->body_clock_ms = uv_now(c->server->loop());
  c->body_clock_bytes = bytes;
}

int BodyBuffered(Connection* c, bool chunked, uint64_t content_length, const char* data, size_t len,
                 bool expect_100) {
  uint64_t want = c->server->opts().post_buffering;
  if (want == 0 || (!chunked && content_length == 0)) return 1;
  uint64_t have = 0;
  if (!chunked) {
    want = std::min(want, content_length);
    have = len;
  } else {
    Connection::BufferedChunks& b = c->buffered_chunks;
    if (b.off > len) b = Connection::BufferedChunks{};
    size_t used = 0;
    ErrorCode err = ErrorCode::OK;
    ChunkedStatus st = ChunkedDecodeAll(&b.decoder, data + b.off, len - b.off, ChunkedLimits(), &used, &err,
                                        [&b, want](Span piece) {
                                          b.have += piece.len;
                                          return b.have < want;
                                        });
    b.off += used;
    have = b.have;
    // A malformed body is refused by TakeInitialBody; a finished one is all here.
    if (st == ChunkedStatus::kError || st == ChunkedStatus::kDone) have = want;
  }
  if (have >= want) {
    c->buffered_chunks = Connection::BufferedChunks{};  // a look after a wait for a slot starts over
    return 1;
  }
  if (!c->buffering_body) {
    c->buffering_body = true;
    StartBodyClock(c, 0);
    if (expect_100) c->out.append("HTTP/1.1 100 Continue\r\n\r\n", 25);
  } else if (BodyTooSlow(c, have)) {
    Refuse(c, ErrorCode::HTTP_BODY_TOO_SLOW);
    return -1;
  }
  return 0;
}

GatewayFacts ScanGatewayVars(const UwsgiVar* vars, size_t n) {
  GatewayFacts f;
  for (size_t i = 0; i < n; i++) {
    const UwsgiVar& v = vars[i];
    if (v.key.equals("REQUEST_METHOD", 14))
      f.method = v.value;
    else if (v.key.equals("REQUEST_URI", 11))
      f.uri = v.value;
    else if (v.key.equals("PATH_INFO", 9))
      f.path = v.value;
    else if (v.key.equals("SERVER_PROTOCOL", 15))
      f.proto = v.value;
    else if (v.key.equals("REMOTE_ADDR", 11))
      f.remote = v.value;
    else if (v.key.equals("CONTENT_LENGTH", 14))
      f.content_length = v.value;
  }
  return f;
}

void BeginGatewayRequest(Connection* c, const GatewayFacts& f, size_t nvars, uint32_t pktsize) {
  ResetRequest(c);
  c->head_request = f.method.equals("HEAD", 4);
  // The response status line echoes SERVER_PROTOCOL, or HTTP/1.0 when absent
  // (as uWSGI does: docs/protocol-uwsgi.md); anything not shaped like HTTP/x.y also falls back.
  Span proto = f.proto;
  bool proto_ok = proto.len == 8 && std::memcmp(proto.data, "HTTP/", 5) == 0;
  if (!proto_ok) proto = Span{"HTTP/1.0", 8};
  if (!f.remote.empty()) c->remote_addr.assign(f.remote.data, f.remote.len);
  RememberForLog(c, f.method, f.uri.empty() ? f.path : f.uri, proto, nvars, pktsize);
}

namespace {

// Parses one HTTP head at data[0..len). Returns bytes consumed (head + initial body), 0
// when incomplete, -1 after refusing.
long ProcessHttpHead(Connection* c, const char* data, size_t len) {
  Server* s = c->server;
  const ServerOptions& o = s->opts();
  HttpParseOptions po;
  po.max_head_size = o.buffer_size;
  // A target that leaves no room for the rest of a minimal request line ("GET " +
  // " HTTP/1.1\r\n" + "\r\n") can never fit the head: say 414, not 431.
  po.max_target_len = o.buffer_size > 32 ? o.buffer_size - 32 : o.buffer_size;
  static thread_local HttpRequestHead head;
  ErrorCode err = ErrorCode::OK;
  HttpHeadScan& scan = c->head_scan;
  // A head scanned whole in this call fills `head` on the way; one that was resumed is
  // parsed once more, in full, when it is about to be dispatched.
  bool fresh = scan.pos == 0 && scan.result == 0;
  int64_t n = ScanHttpRequestHead(data, len, po, &scan, fresh ? &head : nullptr, &err);
  if (n < 0) {
    Refuse(c, err);
    return -1;
  }
  if (n == 0) {
    if (len > o.buffer_size) {
      Refuse(c, ErrorCode::HTTP_HEAD_TOO_LARGE);
      return -1;
    }
    return 0;
  }
  const HttpHeadFacts& f = scan.facts;
  bool has_length = scan.framing == BodyFraming::kLength;
  if (has_length && o.limit_post && f.content_length > o.limit_post) {
    Refuse(c, ErrorCode::HTTP_BODY_TOO_LARGE);
    return -1;
  }
  // A node:http app that decides on 100-continue itself also decides whether to read the
  // body at all: its request goes to it at the head.
  bool app_continue = f.expect_continue && o.continue_by_app;
  int ready =
      app_continue
          ? 1
          : BodyBuffered(c, scan.framing == BodyFraming::kChunked, has_length ? f.content_length : 0,
                         data + n, len - static_cast<size_t>(n), f.expect_continue && f.version_minor == 1);
  if (ready <= 0) return ready;
  if (!TakeSlot(c)) return 0;
  c->head_scan = HttpHeadScan{};
  if (!fresh && ParseHttpRequestHead(data, static_cast<size_t>(n), po, &head, &err) != n) {
    // Cannot happen: the same bytes gave the scan this head. Refused rather than trusted.
    s->ReleaseSlot();
    Refuse(c, err == ErrorCode::OK ? ErrorCode::HTTP_BAD_REQUEST_LINE : err);
    return -1;
  }
  bool buffered = c->buffering_body;
  ResetRequest(c);
  c->rx_head_bytes = static_cast<uint64_t>(n);
  c->keep_alive = head.keep_alive;
  c->head_request = head.method.equals("HEAD", 4);
  c->http_minor = head.version_minor;
  if (head.framing == BodyFraming::kLength) {
    c->body_remaining = head.content_length;
    c->body_done = head.content_length == 0;
  } else if (head.framing == BodyFraming::kChunked) {
    c->chunked = true;
    c->body_done = false;
  }

  VarsOut vo{&s->blob(), s->meta(), s->meta_capacity()};
  s->blob().clear();
  PeerInfo peer{&c->remote_addr, &c->remote_port, c->listener};
  err = BuildHttpVars(head, peer, &vo);
  if (err != ErrorCode::OK) {
    s->ReleaseSlot();
    Refuse(c, err);
    return -1;
  }
  uint32_t flags = c->head_request ? static_cast<uint32_t>(kReqHead) : 0u;
  if (o.raw_headers) {
    long raw = AppendRawHeaders(head, &vo);
    if (raw < 0) {
      s->ReleaseSlot();
      Refuse(c, ErrorCode::HTTP_TOO_MANY_HEADERS);
      return -1;
    }
    static_assert(kMaxHeaders <= 0xff, "the raw header count must fit bits 8..15 of the flags");
    flags |= kReqRawHeaders | (static_cast<uint32_t>(raw) << kReqRawCountShift);
  }
  static const char* kProto[2] = {"HTTP/1.0", "HTTP/1.1"};
  RememberForLog(c, head.method, head.target, Span{kProto[head.version_minor == 1], 8}, vo.nvars, vo.pktsize);

  static thread_local std::string initial;
  Span first;
  long body = TakeInitialBody(c, data + n, len - static_cast<size_t>(n), &initial, &first);
  if (body < 0) {
    s->ReleaseSlot();
    return -1;
  }
  // RFC 9110 10.1.1: answer 100 Continue only when the body is still to come; a node:http
  // app with 'checkContinue' listeners decides itself, as under node:http.
  if (head.expect_continue && head.version_minor == 1 && o.continue_by_app) {
    c->continue_pending = true;
    flags |= kReqExpectContinue;
  } else if (head.expect_continue && !c->body_done && head.version_minor == 1 && first.len == 0 &&
             !buffered) {
    c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
  }
  if (!buffered) StartBodyClock(c, c->body_received);
  Dispatch(c, flags, vo.nvars, first.len == 0 ? nullptr : first.data, first.len);
  return n + body;
}

// Parses one uwsgi packet at data[0..len): 4-byte header, vars block, then the body
// (CONTENT_LENGTH bytes). Same return convention as ProcessHttpHead.
long ProcessUwsgiPacket(Connection* c, const char* data, size_t len) {
  Server* s = c->server;
  const ServerOptions& o = s->opts();
  UwsgiHeader h;
  if (!ParseUwsgiHeader(data, len, &h)) return 0;
  // Checked as soon as the header is in, like uWSGI (proto/uwsgi.c; docs/protocol-uwsgi.md),
  // but answered with 413 instead of a silent reset.
  if (h.datasize > o.buffer_size) {
    char detail[64];
    snprintf(detail, sizeof detail, "block size %u, max %zu", static_cast<unsigned>(h.datasize),
             o.buffer_size);
    Refuse(c, ErrorCode::UWSGI_BLOCK_TOO_LARGE, detail);
    return -1;
  }
  if (len < kUwsgiHeaderSize + h.datasize) return 0;
  if (h.modifier1 == kUwsgiModifierPing) {
    // PING: answered with an empty PONG (64 00 00 01) and not counted as a request.
    c->out.append("\x64\x00\x00\x01", 4);
    c->pending_close = true;
    c->state = ConnState::kClosing;
    return static_cast<long>(kUwsgiHeaderSize + h.datasize);
  }
  if (h.modifier1 > 99) {
    char detail[32];
    snprintf(detail, sizeof detail, "modifier1 %u", static_cast<unsigned>(h.modifier1));
    Refuse(c, ErrorCode::UWSGI_BAD_MODIFIER, detail);
    return -1;
  }
  if (h.datasize == 0) {
    Refuse(c, ErrorCode::UWSGI_EMPTY_BLOCK);
    return -1;
  }
  const char* block = data + kUwsgiHeaderSize;
  static thread_local std::vector<UwsgiVar> vars;
  if (vars.size() < o.max_vars) vars.resize(o.max_vars);
  size_t nvars = 0;
  ErrorCode err =
      ParseUwsgiVars(block, h.datasize, vars.data(), std::min(o.max_vars, s->meta_capacity()), &nvars);
  if (err != ErrorCode::OK) {
    Refuse(c, err);
    return -1;
  }
  GatewayFacts f = ScanGatewayVars(vars.data(), nvars);
  uint64_t content_length = 0;
  if (!ParseUwsgiContentLength(f.content_length, &content_length)) {
    Refuse(c, ErrorCode::UWSGI_BAD_CONTENT_LENGTH);
    return -1;
  }
  if (o.limit_post && content_length > o.limit_post) {
    Refuse(c, ErrorCode::UWSGI_BODY_TOO_LARGE);
    return -1;
  }
  size_t used = kUwsgiHeaderSize + h.datasize;
  int ready = BodyBuffered(c, false, content_length, data + used, len - used, false);
  if (ready <= 0) return ready;
  if (!TakeSlot(c)) return 0;
  bool buffered = c->buffering_body;
  VarsOut vo{&s->blob(), s->meta(), s->meta_capacity()};
  BuildUwsgiVars(block, h.datasize, vars.data(), nvars, &vo);
  BeginGatewayRequest(c, f, nvars, h.datasize);
  c->rx_head_bytes = used;
  c->keep_alive = false;  // one request per uwsgi connection
  c->body_remaining = content_length;
  c->body_done = content_length == 0;

  static thread_local std::string initial;
  Span first;
  long body = TakeInitialBody(c, data + used, len - used, &initial, &first);
  if (!buffered) StartBodyClock(c, c->body_received);
  uint32_t flags = kReqUwsgi | (static_cast<uint32_t>(h.modifier1) << 8) |
                   (c->head_request ? static_cast<uint32_t>(kReqHead) : 0u);
  Dispatch(c, flags, vo.nvars, first.len == 0 ? nullptr : first.data, first.len);
  return static_cast<long>(used) + body;
}

// SCGI sends CONTENT_LENGTH with every request, "0" when the HTTP request had no body, where
// CGI (RFC 3875 4.1.2) and nginx's fastcgi_params / uwsgi_params leave it empty: the app would
// see a "content-length: 0" header on a GET that never had one. A "0" is shown empty when the
// request carried no body framing of its own (no HTTP_CONTENT_LENGTH, no HTTP_TRANSFER_ENCODING).
void BlankFramingContentLength(UwsgiVar* vars, size_t n) {
  UwsgiVar* length = nullptr;
  for (size_t i = 0; i < n; i++) {
    Span k = vars[i].key;
    if (k.equals("HTTP_CONTENT_LENGTH", 19) || k.equals("HTTP_TRANSFER_ENCODING", 22)) return;
    if (k.equals("CONTENT_LENGTH", 14)) length = &vars[i];
  }
  if (length != nullptr && length->value.equals("0", 1)) length->value.len = 0;
}

// Parses one SCGI request at data[0..len): the netstring of headers, then CONTENT_LENGTH
// body bytes (docs/protocol-scgi.md). Same return convention as ProcessHttpHead.
long ProcessScgiRequest(Connection* c, const char* data, size_t len) {
  Server* s = c->server;
  const ServerOptions& o = s->opts();
  static thread_local std::vector<UwsgiVar> vars;
  if (vars.size() < o.max_vars) vars.resize(o.max_vars);
  ScgiRequestHead head;
  ErrorCode err = ErrorCode::OK;
  // One meta entry stays free for a derived PATH_INFO (BuildCgiVars).
  int64_t n = ParseScgiRequest(data, len, o.buffer_size, vars.data(),
                               std::min(o.max_vars, s->meta_capacity() - 1), &head, &err);
  if (n < 0) {
    Refuse(c, err);
    return -1;
  }
  if (n == 0) return 0;
  if (o.limit_post && head.content_length > o.limit_post) {
    Refuse(c, ErrorCode::SCGI_BODY_TOO_LARGE);
    return -1;
  }
  size_t used = static_cast<size_t>(n);
  int ready = BodyBuffered(c, false, head.content_length, data + used, len - used, false);
  if (ready <= 0) return ready;
  if (!TakeSlot(c)) return 0;
  bool buffered = c->buffering_body;
  BlankFramingContentLength(vars.data(), head.num_vars);
  VarsOut vo{&s->blob(), s->meta(), s->meta_capacity()};
  err = BuildCgiVars(head.block, head.block_len, vars.data(), head.num_vars, &vo);
  if (err != ErrorCode::OK) {
    s->ReleaseSlot();
    Refuse(c, err);
    return -1;
  }
  BeginGatewayRequest(c, ScanGatewayVars(vars.data(), head.num_vars), head.num_vars,
                      static_cast<uint32_t>(head.block_len));
  c->rx_head_bytes = used;
  c->keep_alive = false;  // the SCGI response ends with the connection
  c->body_remaining = head.content_length;
  c->body_done = head.content_length == 0;

  static thread_local std::string initial;
  Span first;
  long body = TakeInitialBody(c, data + used, len - used, &initial, &first);
  if (!buffered) StartBodyClock(c, c->body_received);
  uint32_t flags = kReqUwsgi | (c->head_request ? static_cast<uint32_t>(kReqHead) : 0u);
  Dispatch(c, flags, vo.nvars, first.len == 0 ? nullptr : first.data, first.len);
  return static_cast<long>(used) + body;
}

// Body bytes of a request whose body the app gets whole: they are moved to the buffer's
// fill position unless they were read there (ConnectionOnReadable reads straight into it),
// and the app hears only how far the buffer is filled. Returns bytes consumed.
long ProcessWholeBody(Connection* c, const char* data, size_t len) {
  WholeBody& w = c->whole;
  size_t take = static_cast<size_t>(std::min<uint64_t>(c->body_remaining, len));
  if (take == 0) return 0;
  char* at = w.data + w.filled;
  if (data != at) std::memcpy(at, data, take);
  w.filled += take;
  c->body_remaining -= take;
  c->body_received += take;
  if (c->body_remaining == 0) {
    c->body_done = true;
    c->server->BodyEnded();
  }
  // Called after the last write into the buffer: once the app layer sees it full, native
  // writes into it no more. The app may end the request in there (which releases it).
  c->server->sink()->OnBodyFilled(c->req_id, w.filled);
  if (c->body_done) ReleaseWholeBody(c);
  return static_cast<long>(take);
}

// Streams body bytes of the dispatched request to the app. Returns bytes consumed, or -1
// when the connection was refused.
long ProcessBody(Connection* c, const char* data, size_t len) {
  Server* s = c->server;
  RequestSink* sink = s->sink();
  if (c->req_id == 0) return static_cast<long>(len);  // the app already answered: discard
  if (c->whole.data != nullptr) return ProcessWholeBody(c, data, len);
  if (!c->chunked) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(c->body_remaining, len));
    c->body_remaining -= take;
    c->body_received += take;
    if (take > 0) sink->OnData(c->req_id, data, take, ErrorCode::OK);
    if (c->body_remaining == 0) {
      c->body_done = true;
      s->BodyEnded();
      if (c->req_id) sink->OnData(c->req_id, nullptr, 0, ErrorCode::OK);
    }
    return static_cast<long>(take);
  }
  if (c->body_done) return 0;
  size_t off = 0;
  ErrorCode err = ErrorCode::OK;
  bool too_large = false;
  uint64_t limit = s->opts().limit_post;
  ChunkedStatus st = ChunkedDecodeAll(&c->chunk, data, len, ChunkedLimits(), &off, &err, [&](Span piece) {
    if (piece.len == 0) return true;
    c->body_received += piece.len;
    too_large = limit && c->body_received > limit;
    if (too_large) return false;
    sink->OnData(c->req_id, piece.data, piece.len, ErrorCode::OK);
    return !c->body_done;  // the app may have ended the request inside OnData
  });
  if (st == ChunkedStatus::kError || too_large) {
    ConnectionFail(c, too_large ? ErrorCode::HTTP_BODY_TOO_LARGE : err);
    return -1;
  }
  if (st == ChunkedStatus::kDone) {
    c->body_done = true;
    s->BodyEnded();
    if (c->req_id) sink->OnData(c->req_id, nullptr, 0, ErrorCode::OK);
  }
  return static_cast<long>(off);
}

long ProcessHead(Connection* c, const char* data, size_t len) {
  switch (c->protocol) {
    case Protocol::kHttp:
      return ProcessHttpHead(c, data, len);
    case Protocol::kUwsgi:
      return ProcessUwsgiPacket(c, data, len);
    case Protocol::kFastcgi:
      return ProcessFcgiHead(c, data, len);
    case Protocol::kScgi:
      return ProcessScgiRequest(c, data, len);
  }
  return -1;
}

}  // namespace

long ProcessBytes(Connection* c, const char* data, size_t len) {
  size_t off = 0;
  while (true) {
    if (c->state == ConnState::kHead) {
      if (off == len) break;
      if (OutputBacklogged(c)) {
        c->held_back = true;
        break;
      }
      long n = ProcessHead(c, data + off, len - off);
      if (n < 0) return -1;
      if (n == 0) break;
      off += static_cast<size_t>(n);
      if (c->state == ConnState::kClosing) return static_cast<long>(off);
    } else if (c->state == ConnState::kBody) {
      if (c->input_paused || off == len) break;
      long n = c->protocol == Protocol::kFastcgi ? ProcessFcgiBody(c, data + off, len - off)
                                                 : ProcessBody(c, data + off, len - off);
      if (n < 0) return -1;
      off += static_cast<size_t>(n);
      if (!c->body_done && c->req_id != 0 && BodyTooSlow(c, c->body_received)) {
        ConnectionFail(c, ErrorCode::HTTP_BODY_TOO_SLOW);
        return -1;
      }
      if (c->body_done && c->state == ConnState::kBody) c->state = ConnState::kAwaiting;
      if (n == 0 && !c->body_done) break;  // a FastCGI record not yet whole
    } else {
      break;
    }
    // The app answered in a promise (a microtask): let it answer now, inside the pass, so
    // the answer is corked with the pass's flush and the connection never leaves the read
    // state (no epoll_ctl pair per request), as a synchronous answer does.
    if (c->resp != RespState::kDone && c->state != ConnState::kClosed) c->server->SettleDispatched();
    // A response completed synchronously inside the app callback: finish it and go on
    // with the next pipelined request in the same pass.
    if (c->resp == RespState::kDone && c->body_done) {
      ConnectionRequestDone(c, false);
      if (c->state != ConnState::kHead) break;
    }
  }
  return static_cast<long>(off);
}

}  // namespace tsgi
