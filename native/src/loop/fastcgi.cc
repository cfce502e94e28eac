// The request side of FastCGI connections (docs/protocol-fastcgi.md): the records of one
// connection, read in order by the thread that owns it, parsed by proto/fastcgi.h.
//
// One request at a time per connection (FCGI_MPXS_CONNS is 0, as GET_VALUES answers; nginx
// never multiplexes): an FCGI_BEGIN_REQUEST for another requestId while a request's params
// or input are being read gets FCGI_END_REQUEST with FCGI_CANT_MPX_CONN, and records that
// arrive while the app answers wait in pending_in until that request has ended, as
// pipelined HTTP requests do. Records of a requestId that is not active are ignored (spec
// section 3.3). Only whole records are read: one is at most 8 + 65535 + 255 bytes.
#include <cstdio>
#include <string>
#include <vector>

#include "loop/request.h"
#include "proto/fastcgi.h"
#include "proto/http1.h"
#include "proto/vars.h"

namespace tsgi {

namespace {

struct Record {
  FcgiRecordHeader h;
  const char* content = nullptr;
  size_t size = 0;  // header + content + padding
};

// 1: a whole record in *r; 0: more bytes needed; -1: a version other than 1 (*err set).
int NextRecord(const char* data, size_t len, Record* r, ErrorCode* err) {
  if (!ParseFcgiRecordHeader(data, len, &r->h)) return 0;
  if (r->h.version != kFcgiVersion) {
    *err = ErrorCode::FCGI_BAD_VERSION;
    return -1;
  }
  r->size = FcgiRecordSize(r->h);
  if (len < r->size) return 0;
  r->content = data + kFcgiHeaderSize;
  return 1;
}

void LogLine(Connection* c, const char* what) {
  char line[320];
  int n = snprintf(line, sizeof line, "tsgi: FastCGI request from %s: %s",
                   c->remote_addr.empty() ? "unix socket" : c->remote_addr.c_str(), what);
  if (n > 0) c->server->log().AppendLine(line, std::min(static_cast<size_t>(n), sizeof line - 1));
}

// Records with requestId 0 (spec section 4): GET_VALUES is answered with what this side
// knows, any other type with FCGI_UNKNOWN_TYPE. Returns the error of a malformed GET_VALUES.
ErrorCode Management(Connection* c, const Record& r) {
  if (r.h.type != kFcgiGetValues) {
    AppendFcgiUnknownType(&c->out, r.h.type);
    return ErrorCode::OK;
  }
  static thread_local std::vector<UwsgiVar> asked(256);
  size_t n = 0;
  ErrorCode err = ParseFcgiParams(r.content, r.h.content_length, asked.data(), asked.size(), &n);
  if (err != ErrorCode::OK) return err;
  const ServerOptions& o = c->server->opts();
  FcgiLimits limits;
  // One request per connection: as many requests as connections.
  limits.max_conns = o.max_connections;
  limits.max_reqs = o.max_connections;
  limits.mpxs_conns = false;
  AppendFcgiGetValuesResult(&c->out, asked.data(), n, limits);
  return ErrorCode::OK;
}

// Walks the whole FCGI_STDIN records of request `id` at the start of data[0..len), up to and
// including the empty one that ends the stream (then *ended), stopping at any other record
// (then *blocked, when given). Appends their content to `copy` when given. Returns the content
// bytes; *used the bytes of the records walked.
uint64_t WalkStdin(uint16_t id, const char* data, size_t len, std::string* copy, bool* ended, size_t* used,
                   bool* blocked = nullptr) {
  uint64_t bytes = 0;
  size_t off = 0;
  *ended = false;
  if (blocked) *blocked = false;
  Record r;
  ErrorCode ignored = ErrorCode::OK;
  while (NextRecord(data + off, len - off, &r, &ignored) == 1) {
    if (r.h.type != kFcgiStdin || r.h.request_id != id) {
      if (blocked) *blocked = true;
      break;
    }
    off += r.size;
    if (r.h.content_length == 0) {
      *ended = true;
      break;
    }
    bytes += r.h.content_length;
    if (copy) copy->append(r.content, r.h.content_length);
  }
  *used = off;
  return bytes;
}

// An FCGI_ABORT_REQUEST for the request right behind its buffered FCGI_STDIN records ends it
// before the app is called; only the web server is told (FCGI_END_REQUEST). Returns the abort
// record's size, or 0 when the record at `data` is something else.
size_t AbortWhileBuffered(Connection* c, const char* data, size_t len) {
  Record r;
  ErrorCode ignored = ErrorCode::OK;
  if (NextRecord(data, len, &r, &ignored) != 1 || r.h.type != kFcgiAbortRequest ||
      r.h.request_id != c->fcgi.id) {
    return 0;
  }
  AppendFcgiEndRequest(&c->out, c->fcgi.id, 0, kFcgiRequestComplete);
  c->fcgi.id = 0;
  c->buffering_body = false;
  if (!c->fcgi.keep_conn) {
    c->pending_close = true;
    c->state = ConnState::kClosing;
  }
  return r.size;
}

// The request's params are complete: read them, wait for --post-buffering or a slot if need
// be, and dispatch with the FCGI_STDIN records already here. Returns the bytes used from the
// terminating FCGI_PARAMS record on, 0 to wait (that record stays unread), -1 after refusing.
long FinishParams(Connection* c, const Record& r, const char* after, size_t after_len) {
  Server* s = c->server;
  const ServerOptions& o = s->opts();
  Connection::FcgiRequest& q = c->fcgi;
  static thread_local std::vector<UwsgiVar> vars;
  if (vars.size() < o.max_vars) vars.resize(o.max_vars);
  size_t nvars = 0;
  // One meta entry stays free for a derived PATH_INFO (BuildCgiVars).
  ErrorCode err = ParseFcgiParams(q.params.data(), q.params.size(), vars.data(),
                                  std::min(o.max_vars, s->meta_capacity() - 1), &nvars);
  if (err != ErrorCode::OK) {
    Refuse(c, err);
    return -1;
  }
  GatewayFacts f = ScanGatewayVars(vars.data(), nvars);
  // CONTENT_LENGTH is optional: nginx leaves it empty for a chunked upload it streams
  // (fastcgi_request_buffering off); FCGI_STDIN's end marks the body's end either way.
  q.has_length = !f.content_length.empty();
  q.content_length = 0;
  if (q.has_length && !ParseDecimalLength(f.content_length, &q.content_length)) {
    Refuse(c, ErrorCode::FCGI_BAD_CONTENT_LENGTH);
    return -1;
  }
  if (o.limit_post && q.has_length && q.content_length > o.limit_post) {
    Refuse(c, ErrorCode::FCGI_BODY_TOO_LARGE);
    return -1;
  }
  bool ended = false;
  bool blocked = false;
  size_t walked = 0;
  uint64_t ahead = WalkStdin(q.id, after, after_len, nullptr, &ended, &walked, &blocked);
  // Another record behind the FCGI_STDIN ones (a management record such as GET_VALUES, a
  // BEGIN_REQUEST for another id, an ABORT_REQUEST) ends the buffering: the body read so far
  // is what --post-buffering gets, and the rest streams through ProcessFcgiBody, which
  // answers those records. Waiting for more STDIN here would never see it arrive.
  size_t aborted = blocked ? AbortWhileBuffered(c, after + walked, after_len - walked) : 0;
  if (aborted > 0) return static_cast<long>(r.size + walked + aborted);
  uint64_t expected = ended || blocked ? ahead : q.has_length ? q.content_length : ~0ull;
  int ready = BodyBuffered(c, false, expected, nullptr, static_cast<size_t>(ahead), false);
  if (ready <= 0) return ready;
  if (!TakeSlot(c)) return 0;
  bool buffered = c->buffering_body;
  VarsOut vo{&s->blob(), s->meta(), s->meta_capacity()};
  err = BuildCgiVars(q.params.data(), q.params.size(), vars.data(), nvars, &vo);
  if (err != ErrorCode::OK) {
    s->ReleaseSlot();
    Refuse(c, err);
    return -1;
  }
  BeginGatewayRequest(c, f, nvars, static_cast<uint32_t>(q.params.size()));
  c->rx_head_bytes = q.params.size();
  c->keep_alive = q.keep_conn && o.keepalive_timeout_ms != 0;
  static thread_local std::string initial;
  initial.clear();
  WalkStdin(q.id, after, after_len, &initial, &ended, &walked);
  c->body_received = initial.size();
  c->body_done = ended;
  if ((q.has_length &&
       (c->body_received > q.content_length || (ended && c->body_received != q.content_length))) ||
      (o.limit_post && c->body_received > o.limit_post)) {
    s->ReleaseSlot();
    bool too_large = o.limit_post && c->body_received > o.limit_post;
    Refuse(c, too_large ? ErrorCode::FCGI_BODY_TOO_LARGE : ErrorCode::FCGI_BODY_LENGTH_MISMATCH);
    return -1;
  }
  if (!buffered) StartBodyClock(c, c->body_received);
  uint32_t flags = kReqUwsgi | (c->head_request ? static_cast<uint32_t>(kReqHead) : 0u);
  Dispatch(c, flags, vo.nvars, initial.empty() ? nullptr : initial.data(), initial.size());
  return static_cast<long>(r.size + walked);
}

// FCGI_BEGIN_REQUEST. Returns the record's size, or -1 after refusing.
long BeginRequest(Connection* c, const Record& r) {
  Connection::FcgiRequest& q = c->fcgi;
  if (q.id != 0) {
    if (r.h.request_id == q.id) {
      Refuse(c, ErrorCode::FCGI_UNEXPECTED_RECORD, "FCGI_BEGIN_REQUEST for the request in progress");
      return -1;
    }
    AppendFcgiEndRequest(&c->out, r.h.request_id, 0, kFcgiCantMpxConn);
    return static_cast<long>(r.size);
  }
  FcgiBeginRequest b;
  ErrorCode err = ParseFcgiBeginRequest(r.content, r.h.content_length, &b);
  if (err != ErrorCode::OK) {
    Refuse(c, err);
    return -1;
  }
  if (b.role != kFcgiRoleResponder) {
    // Only the Responder role is served (spec section 6.2); the others are answered as the
    // specification asks, and the connection stays if the web server wants to keep it.
    char what[96];
    snprintf(what, sizeof what, "role %u is not served, answered FCGI_UNKNOWN_ROLE",
             static_cast<unsigned>(b.role));
    LogLine(c, what);
    AppendFcgiEndRequest(&c->out, r.h.request_id, 0, kFcgiUnknownRole);
    if ((b.flags & kFcgiKeepConn) == 0) {
      c->pending_close = true;
      c->state = ConnState::kClosing;
    }
    return static_cast<long>(r.size);
  }
  q.id = r.h.request_id;
  q.keep_conn = (b.flags & kFcgiKeepConn) != 0;
  q.params.clear();
  return static_cast<long>(r.size);
}

// One record while no request has reached the app. Returns the bytes used (the record, plus
// the FCGI_STDIN records taken with a dispatch), 0 to wait, -1 after refusing.
long HeadRecord(Connection* c, const Record& r, const char* after, size_t after_len) {
  Connection::FcgiRequest& q = c->fcgi;
  const FcgiRecordHeader& h = r.h;
  if (h.request_id == 0) {
    ErrorCode err = Management(c, r);
    if (err == ErrorCode::OK) return static_cast<long>(r.size);
    Refuse(c, err, "in FCGI_GET_VALUES");
    return -1;
  }
  if (h.type == kFcgiBeginRequest) return BeginRequest(c, r);
  if (h.request_id != q.id) return static_cast<long>(r.size);  // not an active request: ignored
  switch (h.type) {
    case kFcgiParams:
      if (h.content_length == 0) return FinishParams(c, r, after, after_len);
      if (q.params.size() + h.content_length > c->server->opts().buffer_size) {
        char detail[64];
        snprintf(detail, sizeof detail, "more than %zu bytes", c->server->opts().buffer_size);
        Refuse(c, ErrorCode::FCGI_PARAMS_TOO_LARGE, detail);
        return -1;
      }
      q.params.append(r.content, h.content_length);
      return static_cast<long>(r.size);
    case kFcgiAbortRequest:
      // Aborted before the app saw it: only the web server is told.
      AppendFcgiEndRequest(&c->out, q.id, 0, kFcgiRequestComplete);
      q.id = 0;
      if (!q.keep_conn) {
        c->pending_close = true;
        c->state = ConnState::kClosing;
      }
      return static_cast<long>(r.size);
    default: {
      char detail[48];
      snprintf(detail, sizeof detail, "type %u before the end of FCGI_PARAMS", static_cast<unsigned>(h.type));
      Refuse(c, ErrorCode::FCGI_UNEXPECTED_RECORD, detail);
      return -1;
    }
  }
}

// FCGI_ABORT_REQUEST for a request the app holds: it ends as if its client had closed the
// connection, the web server gets FCGI_END_REQUEST, and the connection closes.
void AbortDispatched(Connection* c) {
  Server* s = c->server;
  if (c->req_id != 0) {
    uint32_t id = c->req_id;
    if (!c->body_done) {
      s->sink()->OnData(id, nullptr, 0, ErrorCode::IO_PEER_CLOSED);
      c->body_done = true;
    }
    if (c->resp != RespState::kDone) s->sink()->OnAbort(id, ErrorCode::IO_PEER_CLOSED);
    ConnectionRequestDone(c, true);
  }
  if (c->fcgi.id != 0) AppendFcgiEndRequest(&c->out, c->fcgi.id, 0, kFcgiRequestComplete);
  c->fcgi.id = 0;
  c->keep_alive = false;
  c->pending_close = true;
  if (c->state != ConnState::kClosed) c->state = ConnState::kClosing;
}

// One FCGI_STDIN record of the dispatched request. Returns false after failing the request.
bool StdinRecord(Connection* c, const Record& r) {
  Server* s = c->server;
  const Connection::FcgiRequest& q = c->fcgi;
  size_t n = r.h.content_length;
  if (n == 0) {
    if (q.has_length && c->body_received != q.content_length) {
      ConnectionFail(c, ErrorCode::FCGI_BODY_LENGTH_MISMATCH);
      return false;
    }
    c->body_done = true;
    if (c->req_id) s->sink()->OnData(c->req_id, nullptr, 0, ErrorCode::OK);
    return true;
  }
  c->body_received += n;
  uint64_t limit = s->opts().limit_post;
  if ((limit && c->body_received > limit) || (q.has_length && c->body_received > q.content_length)) {
    ConnectionFail(c, limit && c->body_received > limit ? ErrorCode::FCGI_BODY_TOO_LARGE
                                                        : ErrorCode::FCGI_BODY_LENGTH_MISMATCH);
    return false;
  }
  if (c->req_id) s->sink()->OnData(c->req_id, r.content, n, ErrorCode::OK);
  return true;
}

}  // namespace

long ProcessFcgiHead(Connection* c, const char* data, size_t len) {
  size_t off = 0;
  while (c->state == ConnState::kHead) {
    Record r;
    ErrorCode err = ErrorCode::OK;
    int got = NextRecord(data + off, len - off, &r, &err);
    if (got < 0) {
      Refuse(c, err);
      return -1;
    }
    if (got == 0) {
      // A record never needs more than 65 798 bytes, but its header may promise them: the
      // whole-head deadline bounds how long a sender may take.
      break;
    }
    size_t next = off + r.size;
    long used = HeadRecord(c, r, data + next, len - next);
    if (used < 0) return -1;
    if (used == 0) break;
    off += static_cast<size_t>(used);
  }
  return static_cast<long>(off);
}

long ProcessFcgiBody(Connection* c, const char* data, size_t len) {
  size_t off = 0;
  while (c->state == ConnState::kBody && !c->body_done && !c->input_paused) {
    Record r;
    ErrorCode err = ErrorCode::OK;
    int got = NextRecord(data + off, len - off, &r, &err);
    if (got < 0) {
      ConnectionFail(c, err);
      return -1;
    }
    if (got == 0) break;
    off += r.size;
    const FcgiRecordHeader& h = r.h;
    if (h.request_id == 0) {
      err = Management(c, r);
      if (err != ErrorCode::OK) {
        ConnectionFail(c, err);
        return -1;
      }
      continue;
    }
    if (h.request_id != c->fcgi.id) {
      if (h.type == kFcgiBeginRequest) AppendFcgiEndRequest(&c->out, h.request_id, 0, kFcgiCantMpxConn);
      continue;  // another request's record: ignored
    }
    if (h.type == kFcgiStdin) {
      if (!StdinRecord(c, r)) return -1;
    } else if (h.type == kFcgiAbortRequest) {
      AbortDispatched(c);
      return static_cast<long>(off);
    } else {
      ConnectionFail(c, ErrorCode::FCGI_UNEXPECTED_RECORD);
      return -1;
    }
  }
  return static_cast<long>(off);
}

}  // namespace tsgi
