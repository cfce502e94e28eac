// HTTP/1.1 request-head parser (RFC 9112 sections 2-3, 5-6; RFC 9110 sections 5, 7.2, 8.6, 10.1.1).
//
// One forward pass over buf[0..len): every byte is classified by a 256-entry table, header
// fields that decide framing and connection handling are interpreted as soon as their line
// ends, and the pass stops at the first error or at the end of the input. Stopping early on
// garbage matters as much as speed: a TLS ClientHello sent to an HTTP port is refused at its
// first byte instead of after a timeout, and a request-target longer than max_target_len is
// refused (414) before the rest of the head has arrived.
//
// An incomplete head is parsed again from the start on the next call (as picohttpparser
// does). That pass validates the prefix, so malformed input is answered as soon as the bad
// byte arrives; its cost is linear in len, and len is bounded by max_head_size.
//
// Choices where RFC 9112 leaves room, all on the strict side:
//   - Content-Length must be 1*DIGIT. A second Content-Length field is refused even when it
//     repeats the same value, and so is a list such as "5, 5" (RFC 9110 8.6 allows either
//     rejecting or accepting identical values; llhttp and uWebSockets reject, and so do we).
//   - Transfer-Encoding: "chunked" is the only coding we know. A final coding other than
//     chunked is 400 (RFC 9112 6.3 rule 4); any other coding before a final chunked is 501
//     (RFC 9112 6.1); chunked twice, a coding with parameters, or a malformed list is 400.
//     With HTTP/1.0 a chunked request is accepted but keep_alive is forced off (RFC 9112 6.1:
//     the framing of an HTTP/1.0 message with Transfer-Encoding is treated as faulty).
//   - Expect: only "100-continue" (case-insensitive) is known; anything else is 417. On an
//     HTTP/1.0 request the 100-continue expectation is ignored (RFC 9110 10.1.1).
//   - Request-target bytes are visible ASCII (0x21-0x7E); UTF-8 must be percent-encoded.
//   - Field values may hold SP, HTAB, visible ASCII and obs-text (0x80-0xFF); every other
//     control byte, including NUL and DEL, is refused.
#include "proto/http1.h"

#include <cstring>

#include "common/chars.h"

namespace tsgi {
namespace {

// Facts gathered from the header fields while the head is scanned, resolved into framing
// and connection flags once the empty line is reached.
struct HeadFacts {
  bool has_cl = false;
  bool has_te = false;
  bool te_empty = true;        // no coding seen yet in any Transfer-Encoding field
  bool te_last_chunked = false;
  bool te_seen_chunked = false;
  bool te_unknown = false;     // a coding other than chunked was seen
  bool te_malformed = false;   // chunked twice, parameters, or a coding that is no token
  bool conn_close = false;
  bool conn_keep_alive = false;
};

// Walks one Transfer-Encoding field value (a comma-separated list of transfer-codings;
// empty elements are tolerated as RFC 9110 5.6.1 asks) and updates the facts.
void NoteTransferEncoding(Span v, HeadFacts* f) {
  const char* p = v.data;
  const char* end = v.data + v.len;
  while (p < end) {
    const char* comma = p;
    while (comma < end && *comma != ',') comma++;
    Span elem = TrimOws(p, comma);
    p = comma < end ? comma + 1 : end;
    if (elem.len == 0) continue;
    size_t i = 0;
    while (i < elem.len && Is(elem.data[i], kTchar)) i++;
    bool chunked = false;
    if (i == 0 || i != elem.len) {
      // Not a bare token: parameters (never valid on chunked) or garbage.
      f->te_malformed = true;
    } else {
      chunked = EqualsLowerAscii(elem, "chunked", 7);
      if (chunked && f->te_seen_chunked) f->te_malformed = true;  // chunked applied twice
      if (chunked) f->te_seen_chunked = true;
      if (!chunked) f->te_unknown = true;
    }
    f->te_empty = false;
    f->te_last_chunked = chunked;
  }
}

// Connection is a comma-separated list of connection options (RFC 9110 7.6.1).
void NoteConnection(Span v, HeadFacts* f, HttpRequestHead* out) {
  const char* p = v.data;
  const char* end = v.data + v.len;
  while (p < end) {
    const char* comma = p;
    while (comma < end && *comma != ',') comma++;
    Span opt = TrimOws(p, comma);
    p = comma < end ? comma + 1 : end;
    if (EqualsLowerAscii(opt, "close", 5)) {
      f->conn_close = true;
    } else if (EqualsLowerAscii(opt, "keep-alive", 10)) {
      f->conn_keep_alive = true;
    } else if (EqualsLowerAscii(opt, "upgrade", 7)) {
      out->upgrade = true;
    }
  }
}

// Interprets the fields that change how the request is framed or handled. Returns OK or
// the error the field causes.
ErrorCode NoteField(const HttpHeader& h, int index, HeadFacts* f, HttpRequestHead* out) {
  switch (h.name.len) {
    case 4:
      if (EqualsLowerAscii(h.name, "host", 4)) {
        if (out->host_index >= 0) return ErrorCode::HTTP_DUP_HOST;
        out->host_index = index;
      }
      break;
    case 6:
      if (EqualsLowerAscii(h.name, "expect", 6)) {
        if (!EqualsLowerAscii(h.value, "100-continue", 12)) return ErrorCode::HTTP_BAD_EXPECT;
        if (out->version_minor == 1) out->expect_continue = true;
      }
      break;
    case 10:
      if (EqualsLowerAscii(h.name, "connection", 10)) NoteConnection(h.value, f, out);
      break;
    case 14:
      if (EqualsLowerAscii(h.name, "content-length", 14)) {
        // RFC 9112 6.3 rule 3: CL with TE is a smuggling vector; refuse outright.
        if (f->has_te) return ErrorCode::HTTP_CL_AND_TE;
        if (f->has_cl) return ErrorCode::HTTP_DUP_CONTENT_LENGTH;
        if (!ParseDecimalLength(h.value, &out->content_length)) {
          return ErrorCode::HTTP_BAD_CONTENT_LENGTH;
        }
        f->has_cl = true;
      }
      break;
    case 17:
      if (EqualsLowerAscii(h.name, "transfer-encoding", 17)) {
        if (f->has_cl) return ErrorCode::HTTP_CL_AND_TE;
        f->has_te = true;
        NoteTransferEncoding(h.value, f);
      }
      break;
    default:
      break;
  }
  return ErrorCode::OK;
}

// Resolves framing, keep-alive and Host rules once the whole head has been read.
ErrorCode Finish(const HeadFacts& f, const HttpParseOptions& opts, HttpRequestHead* out) {
  if (f.has_te) {
    if (f.te_empty) return ErrorCode::HTTP_BAD_TRANSFER_ENCODING;
    if (!f.te_last_chunked) return ErrorCode::HTTP_TE_NOT_CHUNKED;
    if (f.te_malformed) return ErrorCode::HTTP_BAD_TRANSFER_ENCODING;
    if (f.te_unknown) return ErrorCode::HTTP_TE_UNKNOWN;
    out->framing = BodyFraming::kChunked;
  } else if (f.has_cl) {
    out->framing = BodyFraming::kLength;
  }
  bool http11 = out->version_minor == 1;
  if (http11 && opts.require_host && out->host_index < 0) return ErrorCode::HTTP_MISSING_HOST;
  out->keep_alive = http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  if (!http11 && f.has_te) out->keep_alive = false;
  return ErrorCode::OK;
}

// Sets path and query from the part of the target that starts at `from` (a '/', '?', '#' or
// the end): the path runs up to '?' or '#', the query from '?' up to '#'.
void SplitPathQuery(HttpRequestHead* out, const char* from) {
  const char* t = out->target.data;
  const char* end = t + out->target.len;
  const char* q = from;
  while (q < end && *q != '?' && *q != '#') q++;
  out->path = Span{from, static_cast<size_t>(q - from)};
  out->query = Span{q, 0};
  if (q < end && *q == '?') {
    const char* e = q + 1;
    while (e < end && *e != '#') e++;
    out->query = Span{q + 1, static_cast<size_t>(e - q - 1)};
  }
}

// Classifies the request-target (RFC 9112 3.2) and splits it into authority, path and query.
// absolute-form is "http" or "https" (any case), "://", a non-empty authority without
// userinfo (RFC 9110 4.2.4: a recipient SHOULD treat userinfo as an error), then the path;
// other schemes are not resources an origin server has, so they are refused like the
// asterisk-form with a method other than OPTIONS. A target that is none of the forms keeps
// its whole self as the path, which the path decoder refuses (docs/http.md).
ErrorCode ClassifyTarget(HttpRequestHead* out) {
  const char* t = out->target.data;
  size_t n = out->target.len;
  out->authority = Span{t, 0};
  if (t[0] == '/') {
    out->form = TargetForm::kOrigin;
    SplitPathQuery(out, t);
    return ErrorCode::OK;
  }
  out->path = out->target;
  out->query = Span{t + n, 0};
  if (n == 1 && t[0] == '*') {
    out->form = TargetForm::kAsterisk;
    // Methods are case-sensitive (RFC 9110 9.1).
    bool options = out->method.len == 7 && std::memcmp(out->method.data, "OPTIONS", 7) == 0;
    return options ? ErrorCode::OK : ErrorCode::HTTP_BAD_TARGET;
  }
  size_t s = 0;
  while (s < n && ((t[s] | 0x20) >= 'a' && (t[s] | 0x20) <= 'z')) s++;
  if (s == 0 || n - s < 3 || t[s] != ':' || t[s + 1] != '/' || t[s + 2] != '/') {
    out->form = TargetForm::kOther;
    return ErrorCode::OK;
  }
  out->form = TargetForm::kAbsolute;
  Span scheme{t, s};
  if (!EqualsLowerAscii(scheme, "http", 4) && !EqualsLowerAscii(scheme, "https", 5)) {
    return ErrorCode::HTTP_BAD_TARGET;
  }
  const char* a = t + s + 3;
  const char* end = t + n;
  const char* e = a;
  while (e < end && *e != '/' && *e != '?' && *e != '#') {
    if (*e == '@') return ErrorCode::HTTP_BAD_TARGET;
    e++;
  }
  if (e == a) return ErrorCode::HTTP_BAD_TARGET;
  out->authority = Span{a, static_cast<size_t>(e - a)};
  SplitPathQuery(out, e);
  return ErrorCode::OK;
}

}  // namespace

bool ParseDecimalLength(Span v, uint64_t* out) {
  if (v.len == 0) return false;
  uint64_t n = 0;
  for (size_t i = 0; i < v.len; i++) {
    char c = v.data[i];
    if (!IsDigit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    // Leading zeros keep n at 0, so they never reach this check.
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

int64_t ParseHttpRequestHead(const char* buf, size_t len, const HttpParseOptions& opts,
                             HttpRequestHead* out, ErrorCode* err) {
  // Nothing past max_head_size is ever looked at: a head that has not ended by then is 431
  // whatever follows, so a prefix and a longer input always get the same answer.
  const char* p = buf;
  const char* const end = buf + (len < opts.max_head_size ? len : opts.max_head_size);
  *err = ErrorCode::OK;
  out->num_headers = 0;
  out->framing = BodyFraming::kNone;
  out->content_length = 0;
  out->keep_alive = false;
  out->expect_continue = false;
  out->upgrade = false;
  out->host_index = -1;

// Every exit goes through one of these two, so the size limit is applied in one place.
#define TSGI_FAIL(code)     \
  do {                      \
    *err = ErrorCode::code; \
    return -1;              \
  } while (0)
#define TSGI_NEED_MORE()                                              \
  do {                                                                \
    if (len > opts.max_head_size) TSGI_FAIL(HTTP_HEAD_TOO_LARGE);     \
    return 0;                                                         \
  } while (0)

  // RFC 9112 2.2: empty lines before the request line are ignored (CRLF only, strictly).
  while (p < end && *p == '\r') {
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_FAIL(HTTP_BARE_CR);
    p += 2;
  }

  // method = token, then exactly one SP.
  const char* method = p;
  while (p < end && Is(*p, kTchar)) p++;
  if (p == end) TSGI_NEED_MORE();
  if (p == method) {
    if (*p == '\n') TSGI_FAIL(HTTP_BARE_LF);
    TSGI_FAIL(HTTP_BAD_METHOD);
  }
  if (*p != ' ') {
    if (*p == '\r' || *p == '\n') TSGI_FAIL(HTTP_BAD_REQUEST_LINE);
    TSGI_FAIL(HTTP_BAD_METHOD);
  }
  out->method = Span{method, static_cast<size_t>(p - method)};
  p++;

  // request-target: visible ASCII only; its length is checked even when the head (or the
  // target itself) is still incomplete, so an over-long URI is refused early with 414.
  const char* target = p;
  while (p < end && Is(*p, kTargetChar)) p++;
  if (static_cast<size_t>(p - target) > opts.max_target_len) TSGI_FAIL(HTTP_URI_TOO_LONG);
  if (p == end) TSGI_NEED_MORE();
  if (p == target) TSGI_FAIL(HTTP_BAD_TARGET);  // a second SP, or a control byte
  if (*p != ' ') {
    if (*p == '\r' || *p == '\n') TSGI_FAIL(HTTP_BAD_REQUEST_LINE);  // HTTP/0.9 style
    TSGI_FAIL(HTTP_BAD_TARGET);
  }
  out->target = Span{target, static_cast<size_t>(p - target)};
  // The form is judged as soon as the target has ended, so a prefix and the whole agree.
  ErrorCode te = ClassifyTarget(out);
  if (te != ErrorCode::OK) {
    *err = te;
    return -1;
  }
  p++;

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive, then CRLF. The available prefix
  // is checked before waiting for more, so "XTTP" fails at once.
  static const char kPattern[] = "HTTP/0.0";
  size_t avail = static_cast<size_t>(end - p);
  for (size_t i = 0; i < 8 && i < avail; i++) {
    char c = p[i];
    bool ok = kPattern[i] == '0' ? IsDigit(c) : c == kPattern[i];
    if (!ok) TSGI_FAIL(HTTP_BAD_VERSION);
  }
  // The version is judged as soon as its 8 bytes are there and before the byte after it, so
  // a prefix and the whole input agree ("HTTP/1.5" is 505 whatever follows).
  if (avail < 8) TSGI_NEED_MORE();
  uint8_t major = static_cast<uint8_t>(p[5] - '0');
  uint8_t minor = static_cast<uint8_t>(p[7] - '0');
  if (major != 1 || minor > 1) TSGI_FAIL(HTTP_UNSUPPORTED_VERSION);
  if (avail < 9) TSGI_NEED_MORE();
  if (p[8] != '\r') {
    if (p[8] == '\n') TSGI_FAIL(HTTP_BARE_LF);
    if (IsDigit(p[8])) TSGI_FAIL(HTTP_BAD_VERSION);
    TSGI_FAIL(HTTP_BAD_REQUEST_LINE);
  }
  out->version_major = major;
  out->version_minor = minor;
  if (avail < 10) TSGI_NEED_MORE();
  if (p[9] != '\n') TSGI_FAIL(HTTP_BARE_CR);
  p += 10;

  HeadFacts facts;
  for (;;) {
    if (p == end) TSGI_NEED_MORE();
    char c = *p;
    if (c == '\r') {
      if (p + 1 == end) TSGI_NEED_MORE();
      if (p[1] != '\n') TSGI_FAIL(HTTP_BARE_CR);
      p += 2;
      break;
    }
    if (c == '\n') TSGI_FAIL(HTTP_BARE_LF);
    if (IsOws(c)) {
      // RFC 9112 5.2: obs-fold is refused; whitespace before the first field (RFC 9112 2.2)
      // could hide a field from other parsers, so it is refused too.
      if (out->num_headers == 0) TSGI_FAIL(HTTP_BAD_HEADER_NAME);
      TSGI_FAIL(HTTP_OBS_FOLD);
    }

    // field-name = token, immediately followed by ':' (RFC 9112 5.1).
    const char* name = p;
    while (p < end && Is(*p, kTchar)) p++;
    if (p == end) TSGI_NEED_MORE();
    if (p == name) TSGI_FAIL(HTTP_BAD_HEADER_NAME);
    if (*p != ':') {
      if (IsOws(*p)) TSGI_FAIL(HTTP_WS_BEFORE_COLON);
      TSGI_FAIL(HTTP_BAD_HEADER_NAME);
    }
    const char* name_end = p++;

    // field-value with surrounding OWS, ended by CRLF.
    while (p < end && IsOws(*p)) p++;
    const char* value = p;
    while (p < end && Is(*p, kFieldValue)) p++;
    if (p == end) TSGI_NEED_MORE();
    if (*p != '\r') {
      if (*p == '\n') TSGI_FAIL(HTTP_BARE_LF);
      TSGI_FAIL(HTTP_BAD_HEADER_VALUE);
    }
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_FAIL(HTTP_BARE_CR);
    const char* value_end = p;
    while (value_end > value && IsOws(value_end[-1])) value_end--;
    p += 2;

    if (out->num_headers == kMaxHeaders) TSGI_FAIL(HTTP_TOO_MANY_HEADERS);
    HttpHeader& h = out->headers[out->num_headers];
    h.name = Span{name, static_cast<size_t>(name_end - name)};
    h.value = Span{value, static_cast<size_t>(value_end - value)};
    ErrorCode fe = NoteField(h, static_cast<int>(out->num_headers), &facts, out);
    if (fe != ErrorCode::OK) {
      *err = fe;
      return -1;
    }
    out->num_headers++;
  }

  size_t head_len = static_cast<size_t>(p - buf);
  if (head_len > opts.max_head_size) TSGI_FAIL(HTTP_HEAD_TOO_LARGE);
  ErrorCode fe = Finish(facts, opts, out);
  if (fe != ErrorCode::OK) {
    *err = fe;
    return -1;
  }
  return static_cast<int64_t>(head_len);
#undef TSGI_FAIL
#undef TSGI_NEED_MORE
}

}  // namespace tsgi
