// Output side of a connection: response heads, body framing (Content-Length, chunked or
// close-delimited), the write path with back-pressure, and canned error responses.
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/chars.h"
#include "loop/connection.h"
#include "proto/fastcgi.h"
#include "proto/http1.h"

namespace tsgi {

namespace {

uint64_t NowMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

uint32_t ParseStatusCode(const char* status, size_t len) {
  if (len < 3) return 0;
  uint32_t code = 0;
  for (size_t i = 0; i < 3; i++) {
    char ch = status[i];
    if (ch < '0' || ch > '9') return 0;
    code = code * 10 + static_cast<uint32_t>(ch - '0');
  }
  return code;
}

// RFC 9110 6.4.1: 1xx, 204 and 304 responses never carry content.
bool StatusHasNoBody(uint32_t code) {
  return (code >= 100 && code < 200) || code == 204 || code == 304;
}

uint32_t CountLines(const char* p, size_t n) {
  uint32_t lines = 0;
  for (size_t i = 0; i + 1 < n; i++) {
    if (p[i] == '\r' && p[i + 1] == '\n') lines++;
  }
  return lines;
}

void AppendDecimal(std::string* out, uint64_t v) {
  char tmp[24];
  out->append(tmp, FormatDecimal(v, tmp));
}

// The value of the app's Content-Length line in a rendered header block ("Name: value\r\n"
// lines, validated by the app layer): kNoDeclaredLength when there is none, and `*bad` set
// when the value is not one decimal number (the body's end is then only the close).
uint64_t DeclaredLength(const char* h, size_t n, bool* bad) {
  static const char kName[] = "content-length:";
  constexpr size_t kNameLen = sizeof kName - 1;
  for (size_t line = 0; line + kNameLen < n;) {
    const char* eol = static_cast<const char*>(std::memchr(h + line, '\n', n - line));
    const char* end = eol ? eol : h + n;
    size_t i = 0;
    while (i < kNameLen && (h[line + i] | 0x20) == kName[i]) i++;
    if (i == kNameLen) {
      // The request rule (RFC 9110 8.6, proto/http1.h): a value it refuses frames nothing.
      Span v = TrimOws(h + line + kNameLen, end > h + line + kNameLen && end[-1] == '\r' ? end - 1 : end);
      uint64_t len = 0;
      if (!ParseDecimalLength(v, &len)) {
        *bad = true;
        return kNoDeclaredLength;
      }
      return len;
    }
    if (!eol) break;
    line = static_cast<size_t>(eol - h) + 1;
  }
  return kNoDeclaredLength;
}

// The app's body did not match its Content-Length: the client has (or will have) exactly the
// declared bytes or fewer, and only a close tells it where the response ends, so the
// connection never carries another response (response poisoning; docs/security.md).
void LengthMismatch(Connection* c, uint64_t sent_or_more, bool more) {
  if (c->resp_length_error) return;
  c->resp_length_error = true;
  c->keep_alive = false;
  char line[320];
  int n =
      snprintf(line, sizeof line,
               "tsgi: response to %s %s: the app sent %s%llu body bytes with Content-Length: %llu; "
               "connection closed (%s)",
               c->log_method.c_str(), c->log_uri.c_str(), more ? "more than " : "",
               static_cast<unsigned long long>(sent_or_more),
               static_cast<unsigned long long>(c->resp_declared), ErrorName(ErrorCode::APP_LENGTH_MISMATCH));
  if (n > 0) c->server->log().AppendLine(line, std::min(static_cast<size_t>(n), sizeof line - 1));
}

}  // namespace

namespace {

// Whether the connection survives this response. HTTP: only if the client asked for it, the
// app did not refuse it, the body framing lets the client find the end, and the request body
// was read fully (otherwise its remaining bytes would be taken for the next request).
// FastCGI: records frame every response, so only the web server's FCGI_KEEP_CONN, an unread
// request body and a stop end it. uwsgi and SCGI: never (keep_alive is false).
bool CloseAfterResponse(const Connection* c, uint32_t flags, bool bad_length) {
  const Server* s = c->server;
  if (!c->keep_alive || !c->body_done || s->stopping() || s->opts().keepalive_timeout_ms == 0) return true;
  if (c->protocol == Protocol::kFastcgi) return false;
  return (flags & kRespConnectionClose) || c->framing == Framing::kClose || bad_length;
}

// The head of a response to a FastCGI or SCGI request is CGI-style (RFC 3875 6.3.3): a
// Status header in place of the status line.
void AppendCgiHead(Connection* c, const char* status, size_t status_len, const char* headers,
                   size_t headers_len, bool add_length, uint64_t length, uint32_t* count) {
  std::string& out = c->out;
  out.append("Status: ", 8);
  out.append(status, status_len);
  out.append("\r\n", 2);
  out.append(headers, headers_len);
  *count = CountLines(headers, headers_len) + 1;
  if (add_length) {
    out.append("Content-Length: ", 16);
    AppendDecimal(&out, length);
    out.append("\r\n", 2);
    (*count)++;
  }
  out.append("\r\n", 2);
}

// Turns out[start..) into FCGI_STDOUT records of the current request: in place when it fits
// one record (8 bytes were reserved at start), else re-appended in pieces.
void SealFcgiStdout(Connection* c, size_t start) {
  std::string& out = c->out;
  size_t content = out.size() - start - kFcgiHeaderSize;
  if (content <= kFcgiMaxContent) {
    std::string header;
    AppendFcgiHeader(&header, kFcgiStdout, c->fcgi.id, static_cast<uint16_t>(content));
    out.replace(start, kFcgiHeaderSize, header);
    return;
  }
  std::string head = out.substr(start + kFcgiHeaderSize);
  out.resize(start);
  AppendFcgiStream(&out, kFcgiStdout, c->fcgi.id, head.data(), head.size());
}

// Whether a finished request gets a log line: always with logging on, else when one of
// uWSGI's conditions holds (core/logging.c, log_request). Times are counted in whole
// milliseconds, as uWSGI compares them.
bool ShouldLog(const ServerOptions& o, const Connection* c, uint64_t end_us, bool aborted) {
  if (o.logging) return true;
  const ServerOptions::LogWhen& w = o.log_when;
  uint32_t status = c->resp_status ? c->resp_status : (aborted ? 499 : 0);
  return (w.zero && c->resp_body_bytes == 0) || (w.slow_ms && (end_us - c->start_us) / 1000 >= w.slow_ms) ||
         (w.status_4xx && status >= 400 && status <= 499) ||
         (w.status_5xx && status >= 500 && status <= 599) ||
         (w.big_bytes && c->resp_body_bytes >= w.big_bytes);
}

// A body at least this large is sent from the app's buffer (SendAlongside) instead of
// being copied into `out` first.
constexpr size_t kSendAlongsideMin = 16 * 1024;

// Sends what `out` holds, then `data`, with one sendmsg: a large body goes from the app's
// buffer to the socket without a copy, and still after everything queued before it. Returns
// how much of `data` went; the caller queues the rest. A failed send queues it all, and the
// flush that follows meets the error again and handles it (ConnectionFlush).
size_t SendAlongside(Connection* c, const char* data, size_t len) {
  if (c->state == ConnState::kClosed) return 0;
  Server* s = c->server;
  size_t queued = c->out.size() - c->out_off;
  struct iovec iov[2];
  int n = 0;
  if (queued > 0) iov[n++] = {c->out.data() + c->out_off, queued};
  iov[n++] = {const_cast<char*>(data), len};
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(n);
  ssize_t w;
  do {
    w = ::sendmsg(c->fd, &msg, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w <= 0) return 0;
  size_t wrote = static_cast<size_t>(w);
  s->mutable_counters().tx += wrote;
  if (c->timer.owner == &s->write_timeouts()) {
    ConnListPush(&s->write_timeouts(), c, uv_now(s->loop()) + s->opts().socket_timeout_ms);
  }
  if (wrote < queued) {
    c->out_off += wrote;
    return 0;
  }
  c->out.clear();
  c->out_off = 0;
  return wrote - queued;
}

}  // namespace

void ResponseBegin(Connection* c, const char* status, size_t status_len, const char* headers,
                   size_t headers_len, uint32_t flags, bool has_length, uint64_t length) {
  std::string& out = c->out;
  size_t start = out.size();
  bool http = c->protocol == Protocol::kHttp;
  bool cgi = c->protocol == Protocol::kFastcgi || c->protocol == Protocol::kScgi;
  c->resp_status = ParseStatusCode(status, status_len);
  bool no_body = StatusHasNoBody(c->resp_status);

  c->resp_declared = kNoDeclaredLength;
  bool bad_length = false;
  if ((flags & kRespHasContentLength) && !(flags & kRespHasTransferEncoding)) {
    c->resp_declared = DeclaredLength(headers, headers_len, &bad_length);
  }
  if (flags & kRespHasTransferEncoding) {
    c->framing = Framing::kClose;  // the app frames the body itself; its end is our close
  } else if (has_length || (flags & kRespHasContentLength) || no_body) {
    c->framing = Framing::kLength;
  } else if (http && c->http_minor == 1) {
    c->framing = Framing::kChunked;
  } else {
    c->framing = Framing::kClose;
  }
  bool close = CloseAfterResponse(c, flags, bad_length);
  if (close) c->keep_alive = false;
  bool add_length = has_length && !(flags & kRespHasContentLength) && !no_body;

  if (cgi) {
    if (c->protocol == Protocol::kFastcgi) out.append(kFcgiHeaderSize, '\0');  // sealed below
    size_t head_at = out.size();
    uint32_t count = 0;
    AppendCgiHead(c, status, status_len, headers, headers_len, add_length, length, &count);
    c->resp_header_count = count;
    c->resp_header_bytes = out.size() - head_at;
    if (c->protocol == Protocol::kFastcgi) SealFcgiStdout(c, start);
  } else {
    // RFC 9110 6.2: a server answers with its own highest minor version, also to 1.0 clients.
    if (http) {
      out.append("HTTP/1.1 ", 9);
    } else {
      out.append(c->log_proto);
      out.push_back(' ');
    }
    out.append(status, status_len);
    out.append("\r\n", 2);
    out.append(headers, headers_len);
    uint32_t count = CountLines(headers, headers_len);
    if (add_length) {
      out.append("Content-Length: ", 16);
      AppendDecimal(&out, length);
      out.append("\r\n", 2);
      count++;
    }
    if (c->framing == Framing::kChunked) {
      out.append("Transfer-Encoding: chunked\r\n", 28);
      count++;
    }
    if (http) {
      if (close && c->http_minor == 1 && !(flags & kRespConnectionClose)) {
        out.append("Connection: close\r\n", 19);
        count++;
      } else if (!close && c->http_minor == 0) {
        out.append("Connection: keep-alive\r\n", 24);
        count++;
      }
    }
    out.append("\r\n", 2);
    c->resp_header_count = count;
    c->resp_header_bytes = out.size() - start;
  }
  c->resp = RespState::kStreaming;
  if (c->server->harakiri()) c->server->harakiri()->ResponseStarted(c->req_id);
  if (no_body) c->head_request = true;  // drop any body bytes the app writes
}

void ResponseBody(Connection* c, const char* data, size_t len) {
  if (len == 0 || c->head_request) return;
  if (c->resp_declared != kNoDeclaredLength && c->resp_body_bytes + len > c->resp_declared) {
    LengthMismatch(c, c->resp_declared, true);
    len = static_cast<size_t>(c->resp_declared - c->resp_body_bytes);
    if (len == 0) return;
  }
  c->resp_body_bytes += len;
  if (c->protocol == Protocol::kFastcgi) {
    AppendFcgiStream(&c->out, kFcgiStdout, c->fcgi.id, data, len);
  } else if (c->framing == Framing::kChunked) {
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    c->out.append(size, static_cast<size_t>(n));
    c->out.append(data, len);
    c->out.append("\r\n", 2);
  } else if (len >= kSendAlongsideMin) {
    size_t sent = SendAlongside(c, data, len);
    c->out.append(data + sent, len - sent);
  } else {
    c->out.append(data, len);
  }
}

void ResponseFinish(Connection* c, const char* trailers, size_t trailers_len) {
  if (c->resp_declared != kNoDeclaredLength && !c->head_request && c->resp_body_bytes < c->resp_declared) {
    LengthMismatch(c, c->resp_body_bytes, false);
  }
  if (c->framing == Framing::kChunked && !c->head_request) {
    if (trailers_len == 0) {
      c->out.append("0\r\n\r\n", 5);
    } else {
      c->out.append("0\r\n", 3);
      c->out.append(trailers, trailers_len);
      c->out.append("\r\n", 2);
    }
  }
  if (c->protocol == Protocol::kFastcgi && c->fcgi.id != 0) {
    // The empty FCGI_STDOUT ends the stream; after FCGI_END_REQUEST the web server may reuse
    // the requestId, so the request is no longer active here.
    AppendFcgiHeader(&c->out, kFcgiStdout, c->fcgi.id, 0);
    AppendFcgiEndRequest(&c->out, c->fcgi.id, 0, kFcgiRequestComplete);
    c->fcgi.id = 0;
  }
  c->resp = RespState::kDone;
  if (!c->keep_alive) c->pending_close = true;
}

void ResponseWriteCanned(Connection* c, ErrorCode err) {
  size_t len = 0;
  const char* bytes = CannedResponse(ErrorStatus(err), &len);
  if (c->protocol == Protocol::kFastcgi || c->protocol == Protocol::kScgi) {
    // CGI-style (RFC 3875 6.3.3): "Status: 400 Bad Request" in place of the status line.
    // The web server owns its client connection: the canned "Connection: close" is dropped.
    const char* reason = static_cast<const char*>(std::memchr(bytes, ' ', len)) + 1;
    std::string cgi("Status: ");
    cgi.append(reason, len - static_cast<size_t>(reason - bytes));
    size_t conn = cgi.find("Connection: close\r\n");
    if (conn != std::string::npos) cgi.erase(conn, 19);
    if (c->protocol == Protocol::kScgi) {
      c->out.append(cgi);
    } else if (c->fcgi.id != 0) {
      // Before FCGI_BEGIN_REQUEST there is no request to answer: the log line and the close say it.
      AppendFcgiStream(&c->out, kFcgiStdout, c->fcgi.id, cgi.data(), cgi.size());
      AppendFcgiHeader(&c->out, kFcgiStdout, c->fcgi.id, 0);
      AppendFcgiEndRequest(&c->out, c->fcgi.id, 0, kFcgiRequestComplete);
      c->fcgi.id = 0;
    }
  } else {
    c->out.append(bytes, len);
  }
  c->pending_close = true;
  c->keep_alive = false;
  if (c->state != ConnState::kClosed) c->state = ConnState::kClosing;
}

bool ConnectionFlush(Connection* c) {
  if (c->state == ConnState::kClosed) return false;
  Server* s = c->server;
  bool progressed = false;
  while (c->out_off < c->out.size()) {
    ssize_t w = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (w > 0) {
      c->out_off += static_cast<size_t>(w);
      s->mutable_counters().tx += static_cast<uint64_t>(w);
      progressed = true;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The write deadline counts from the last progress: a slow reader of a long response
      // keeps its connection, one that reads nothing loses it after socket-timeout.
      if (progressed && c->timer.owner == &s->write_timeouts()) {
        ConnListPush(&s->write_timeouts(), c, uv_now(s->loop()) + s->opts().socket_timeout_ms);
      }
      // Reclaim the written prefix once it dominates, so a long stream does not grow `out`.
      if (c->out_off > 64 * 1024 && c->out_off * 2 > c->out.size()) {
        c->out.erase(0, c->out_off);
        c->out_off = 0;
      }
      return true;
    }
    // EPIPE, ECONNRESET: the client is gone.
    c->out.clear();
    c->out_off = 0;
    c->peer_closed = true;
    if (c->processing || s->in_js_call()) {
      c->deferred_error = ErrorCode::IO_WRITE_FAILED;
      s->Defer(c);
      return true;
    }
    ConnectionFail(c, ErrorCode::IO_WRITE_FAILED);
    return false;
  }
  c->out.clear();
  c->out_off = 0;
  if (c->pending_close && c->state != ConnState::kBody) {
    if (c->processing || s->in_js_call()) {
      s->Defer(c);
      return true;
    }
    ConnectionClose(c);
    return false;
  }
  return true;
}

void ConnectionRequestDone(Connection* c, bool aborted) {
  Server* s = c->server;
  if (c->req_id == 0) return;
  uint64_t end_us = NowMicros();
  if (s->opts().scoreboard.core) {
    // Aborted requests count too (duration, rx, tx), under the status they were sent, if any.
    ScoreboardRequestDone(s->opts().scoreboard, c->req_id, end_us - c->start_us,
                          c->resp_header_bytes + c->resp_body_bytes, c->rx_head_bytes + c->body_received,
                          c->resp_status);
  }
  if (ShouldLog(s->opts(), c, end_us, aborted)) {
    RequestLogEntry e;
    e.remote_addr = &c->remote_addr;
    e.method = &c->log_method;
    e.uri = &c->log_uri;
    e.protocol = &c->log_proto;
    e.nvars = c->log_nvars;
    e.pktsize = c->log_pktsize;
    e.start_sec = c->start_sec;
    e.start_us = c->start_us;
    e.end_us = end_us;
    e.body_bytes = c->resp_body_bytes;
    e.status = c->resp_status ? c->resp_status : (aborted ? 499 : 0);
    e.header_count = c->resp_header_count;
    e.header_bytes = c->resp_header_bytes;
    e.request_number = s->counters().requests + 1;
    e.request_body_bytes = c->body_received;
    e.captured = &c->log_captured;
    s->log().Append(e);
  }
  s->mutable_counters().requests++;
  if (s->harakiri()) s->harakiri()->End(c->req_id);
  if (!c->body_done && !c->server->destroying()) c->orphan_input_id = c->req_id;
  ReleaseWholeBody(c);  // the rest of an unfinished body is drained, not kept
  s->UnregisterRequest(c->req_id);
  c->req_id = 0;
  s->ReleaseSlot();
  if (c->state == ConnState::kClosed || c->state == ConnState::kClosing) return;
  if (!aborted && c->keep_alive && c->body_done && !c->peer_closed && !c->pending_close) {
    c->state = ConnState::kHead;
    c->resp = RespState::kNone;
    ConnListPush(&s->idle_timeouts(), c, uv_now(s->loop()) + s->opts().keepalive_timeout_ms);
    if (!c->processing) s->Defer(c);  // parse pipelined bytes and resume reading
    return;
  }
  c->pending_close = true;
  c->state = ConnState::kClosing;
  if (!c->processing) s->Defer(c);
}

}  // namespace tsgi
