// HTTP/1.1 request-head parser (RFC 9112 sections 2-3, 5-6; RFC 9110 sections 5, 7.2, 8.6, 10.1.1).
//
// One forward pass over buf[0..len): every byte is classified by a 256-entry table, header
// fields that decide framing and connection handling are interpreted as soon as their line
// ends, and the pass stops at the first error or at the end of the input. Stopping early on
// garbage matters as much as speed: a TLS ClientHello sent to an HTTP port is refused at its
// first byte instead of after a timeout, and a request-target longer than max_target_len is
// refused (414) before the rest of the head has arrived.
//
// The pass is resumable (HttpHeadScan): where it stopped for want of bytes is kept as a
// grammar phase and offsets, so a head that arrives a byte at a time costs O(n) in all, not
// O(n^2) (picohttpparser's last_len serves the same end). The prefix is validated as it
// arrives, so malformed input is answered as soon as the bad byte arrives.
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

using HeadFacts = HttpHeadFacts;

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
void NoteConnection(Span v, HeadFacts* f) {
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
      f->upgrade = true;
    }
  }
}

// Interprets the fields that change how the request is framed or handled. Returns OK or
// the error the field causes.
ErrorCode NoteField(const HttpHeader& h, HeadFacts* f) {
  switch (h.name.len) {
    case 4:
      if (EqualsLowerAscii(h.name, "host", 4)) {
        if (f->host_seen) return ErrorCode::HTTP_DUP_HOST;
        f->host_seen = true;
      }
      break;
    case 6:
      if (EqualsLowerAscii(h.name, "expect", 6)) {
        if (!EqualsLowerAscii(h.value, "100-continue", 12)) return ErrorCode::HTTP_BAD_EXPECT;
        if (f->version_minor == 1) f->expect_continue = true;
      }
      break;
    case 10:
      if (EqualsLowerAscii(h.name, "connection", 10)) NoteConnection(h.value, f);
      break;
    case 14:
      if (EqualsLowerAscii(h.name, "content-length", 14)) {
        // RFC 9112 6.3 rule 3: CL with TE is a smuggling vector; refuse outright.
        if (f->has_te) return ErrorCode::HTTP_CL_AND_TE;
        if (f->has_cl) return ErrorCode::HTTP_DUP_CONTENT_LENGTH;
        if (!ParseDecimalLength(h.value, &f->content_length)) {
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
ErrorCode Finish(const HeadFacts& f, const HttpParseOptions& opts, HttpHeadScan* out) {
  if (f.has_te) {
    if (f.te_empty) return ErrorCode::HTTP_BAD_TRANSFER_ENCODING;
    if (!f.te_last_chunked) return ErrorCode::HTTP_TE_NOT_CHUNKED;
    if (f.te_malformed) return ErrorCode::HTTP_BAD_TRANSFER_ENCODING;
    if (f.te_unknown) return ErrorCode::HTTP_TE_UNKNOWN;
    out->framing = BodyFraming::kChunked;
  } else if (f.has_cl) {
    out->framing = BodyFraming::kLength;
  }
  bool http11 = f.version_minor == 1;
  if (http11 && opts.require_host && !f.host_seen) return ErrorCode::HTTP_MISSING_HOST;
  out->keep_alive = http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  if (!http11 && f.has_te) out->keep_alive = false;
  return ErrorCode::OK;
}

// The request-line parts ClassifyTarget reads and sets (copied into HttpRequestHead).
struct TargetParts {
  Span method, target;
  TargetForm form = TargetForm::kOrigin;
  Span authority, path, query;
};

// Sets path and query from the part of the target that starts at `from` (a '/', '?', '#' or
// the end): the path runs up to '?' or '#', the query from '?' up to '#'.
void SplitPathQuery(TargetParts* out, const char* from) {
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
ErrorCode ClassifyTarget(TargetParts* out) {
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

namespace {

// Grammar phases of HttpHeadScan::phase, in the order a head passes through them.
enum Phase : uint8_t {
  kLeading = 0,  // empty lines before the request line
  kMethod,       // method token
  kTarget,       // request-target
  kVersion,      // "HTTP/x.y" CRLF, judged as a whole from its first byte
  kLineStart,    // start of a field line, or the CRLF that ends the head
  kName,         // field-name
  kValueOws,     // OWS before a field-value
  kValue,        // field-value up to its CR (and the LF after it)
  kEnded,        // the empty line was read: Finish decides
  kComplete,
  kFailed,
};

// Each step below scans one phase from wherever the previous call stopped and returns kNext
// once it has moved the phase on, or the scan's result (0 for more bytes, -1 for an error).
constexpr int64_t kNext = 1;

// One scan call: the input, the state it resumes and where the bytes run out. Every exit
// before the head is complete goes through Fail or NeedMore, so the size limit is applied in
// one place. The steps copy `p` into a local and store it back only when they move on, so
// the byte loops keep it in a register.
struct Scanner {
  const char* buf;
  size_t len;
  const char* end;  // buf + min(len, max_head_size): nothing past the limit is looked at
  const HttpParseOptions& opts;
  HttpHeadScan* st;
  HttpRequestHead* out;  // nullptr on a resumed scan
  ErrorCode* err;
  const char* p;  // the next byte to look at

  uint32_t Off(const char* q) const { return static_cast<uint32_t>(q - buf); }
  int64_t Next(Phase phase, const char* at) {
    p = at;
    st->phase = phase;
    return kNext;
  }
  int64_t Fail(ErrorCode code) {
    st->phase = kFailed;
    st->error = code;
    st->result = -1;
    *err = code;
    return -1;
  }
  int64_t NeedMore(const char* at) {
    st->pos = Off(at);
    if (len > opts.max_head_size) return Fail(ErrorCode::HTTP_HEAD_TOO_LARGE);
    return 0;
  }
};

// RFC 9112 2.2: empty lines before the request line are ignored (CRLF only, strictly).
int64_t ScanLeading(Scanner& s) {
  const char* p = s.p;
  while (p < s.end && *p == '\r') {
    if (p + 1 == s.end) return s.NeedMore(p);
    if (p[1] != '\n') return s.Fail(ErrorCode::HTTP_BARE_CR);
    p += 2;
  }
  if (p == s.end) return s.NeedMore(p);  // more empty lines may follow
  s.st->method = s.Off(p);
  return s.Next(kMethod, p);
}

// method = token, then exactly one SP.
int64_t ScanMethod(Scanner& s) {
  const char* p = s.p;
  const char* method = s.buf + s.st->method;
  while (p < s.end && Is(*p, kTchar)) p++;
  if (p == s.end) return s.NeedMore(p);
  if (p == method) {
    if (*p == '\n') return s.Fail(ErrorCode::HTTP_BARE_LF);
    return s.Fail(ErrorCode::HTTP_BAD_METHOD);
  }
  if (*p != ' ') {
    if (*p == '\r' || *p == '\n') return s.Fail(ErrorCode::HTTP_BAD_REQUEST_LINE);
    return s.Fail(ErrorCode::HTTP_BAD_METHOD);
  }
  s.st->method_len = static_cast<uint32_t>(p - method);
  s.st->target = s.Off(++p);
  return s.Next(kTarget, p);
}

// request-target: visible ASCII only; its length is checked even when the head (or the
// target itself) is still incomplete, so an over-long URI is refused early with 414.
int64_t ScanTarget(Scanner& s) {
  const char* p = s.p;
  HttpHeadScan* st = s.st;
  const char* target = s.buf + st->target;
  while (p < s.end && Is(*p, kTargetChar)) p++;
  if (static_cast<size_t>(p - target) > s.opts.max_target_len) return s.Fail(ErrorCode::HTTP_URI_TOO_LONG);
  if (p == s.end) return s.NeedMore(p);
  if (p == target) return s.Fail(ErrorCode::HTTP_BAD_TARGET);  // a second SP, or a control byte
  if (*p != ' ') {
    if (*p == '\r' || *p == '\n') return s.Fail(ErrorCode::HTTP_BAD_REQUEST_LINE);  // HTTP/0.9 style
    return s.Fail(ErrorCode::HTTP_BAD_TARGET);
  }
  st->target_len = static_cast<uint32_t>(p - target);
  // The form is judged as soon as the target has ended, so a prefix and the whole agree.
  TargetParts tp;
  tp.method = Span{s.buf + st->method, st->method_len};
  tp.target = Span{target, st->target_len};
  ErrorCode te = ClassifyTarget(&tp);
  if (te != ErrorCode::OK) return s.Fail(te);
  if (s.out) {
    s.out->method = tp.method;
    s.out->target = tp.target;
    s.out->form = tp.form;
    s.out->authority = tp.authority;
    s.out->path = tp.path;
    s.out->query = tp.query;
  }
  p++;
  return s.Next(kVersion, p);
}

// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive, then CRLF. The available prefix is
// checked before waiting for more, so "XTTP" fails at once; a later call looks at these (at
// most 10) bytes again.
int64_t ScanVersion(Scanner& s) {
  const char* p = s.p;
  static const char kPattern[] = "HTTP/0.0";
  size_t avail = static_cast<size_t>(s.end - p);
  for (size_t i = 0; i < 8 && i < avail; i++) {
    char c = p[i];
    bool ok = kPattern[i] == '0' ? IsDigit(c) : c == kPattern[i];
    if (!ok) return s.Fail(ErrorCode::HTTP_BAD_VERSION);
  }
  // The version is judged as soon as its 8 bytes are there and before the byte after it, so
  // a prefix and the whole input agree ("HTTP/1.5" is 505 whatever follows).
  if (avail < 8) return s.NeedMore(p);
  uint8_t major = static_cast<uint8_t>(p[5] - '0');
  uint8_t minor = static_cast<uint8_t>(p[7] - '0');
  if (major != 1 || minor > 1) return s.Fail(ErrorCode::HTTP_UNSUPPORTED_VERSION);
  if (avail < 9) return s.NeedMore(p);
  if (p[8] != '\r') {
    if (p[8] == '\n') return s.Fail(ErrorCode::HTTP_BARE_LF);
    if (IsDigit(p[8])) return s.Fail(ErrorCode::HTTP_BAD_VERSION);
    return s.Fail(ErrorCode::HTTP_BAD_REQUEST_LINE);
  }
  if (avail < 10) return s.NeedMore(p);
  if (p[9] != '\n') return s.Fail(ErrorCode::HTTP_BARE_CR);
  s.st->facts.version_minor = minor;
  if (s.out) {
    s.out->version_major = major;
    s.out->version_minor = minor;
  }
  p += 10;
  return s.Next(kLineStart, p);
}

// A field line begins, or the empty line ends the head.
int64_t ScanLineStart(Scanner& s) {
  const char* p = s.p;
  if (p == s.end) return s.NeedMore(p);
  char c = *p;
  if (c == '\r') {
    if (p + 1 == s.end) return s.NeedMore(p);
    if (p[1] != '\n') return s.Fail(ErrorCode::HTTP_BARE_CR);
    p += 2;
    return s.Next(kEnded, p);
  }
  if (c == '\n') return s.Fail(ErrorCode::HTTP_BARE_LF);
  if (IsOws(c)) {
    // RFC 9112 5.2: obs-fold is refused; whitespace before the first field (RFC 9112 2.2)
    // could hide a field from other parsers, so it is refused too.
    if (s.st->num_headers == 0) return s.Fail(ErrorCode::HTTP_BAD_HEADER_NAME);
    return s.Fail(ErrorCode::HTTP_OBS_FOLD);
  }
  s.st->tok = s.Off(p);
  return s.Next(kName, p);
}

// field-name = token, immediately followed by ':' (RFC 9112 5.1).
int64_t ScanName(Scanner& s) {
  const char* p = s.p;
  const char* name = s.buf + s.st->tok;
  while (p < s.end && Is(*p, kTchar)) p++;
  if (p == s.end) return s.NeedMore(p);
  if (p == name) return s.Fail(ErrorCode::HTTP_BAD_HEADER_NAME);
  if (*p != ':') {
    if (IsOws(*p)) return s.Fail(ErrorCode::HTTP_WS_BEFORE_COLON);
    return s.Fail(ErrorCode::HTTP_BAD_HEADER_NAME);
  }
  s.st->name_end = s.Off(p++);
  return s.Next(kValueOws, p);
}

// field-value with surrounding OWS, ended by CRLF.
int64_t ScanValueOws(Scanner& s) {
  const char* p = s.p;
  while (p < s.end && IsOws(*p)) p++;
  if (p == s.end) return s.NeedMore(p);
  s.st->value = s.Off(p);
  return s.Next(kValue, p);
}

int64_t ScanValue(Scanner& s) {
  const char* p = s.p;
  HttpHeadScan* st = s.st;
  const char* value = s.buf + st->value;
  while (p < s.end && Is(*p, kFieldValue)) p++;
  if (p == s.end) return s.NeedMore(p);
  if (*p != '\r') {
    if (*p == '\n') return s.Fail(ErrorCode::HTTP_BARE_LF);
    return s.Fail(ErrorCode::HTTP_BAD_HEADER_VALUE);
  }
  if (p + 1 == s.end) return s.NeedMore(p);
  if (p[1] != '\n') return s.Fail(ErrorCode::HTTP_BARE_CR);
  if (st->num_headers == kMaxHeaders) return s.Fail(ErrorCode::HTTP_TOO_MANY_HEADERS);
  HttpHeader h;
  h.name = Span{s.buf + st->tok, st->name_end - st->tok};
  h.value = TrimOws(value, p);  // leading OWS was skipped already: this drops the trailing
  p += 2;
  bool had_host = st->facts.host_seen;
  ErrorCode fe = NoteField(h, &st->facts);
  if (fe != ErrorCode::OK) return s.Fail(fe);
  if (s.out) {
    s.out->headers[st->num_headers] = h;
    if (!had_host && st->facts.host_seen) s.out->host_index = static_cast<int>(st->num_headers);
  }
  st->num_headers++;
  return s.Next(kLineStart, p);
}

int64_t Step(Scanner& s) {
  switch (s.st->phase) {
    case kLeading:
      return ScanLeading(s);
    case kMethod:
      return ScanMethod(s);
    case kTarget:
      return ScanTarget(s);
    case kVersion:
      return ScanVersion(s);
    case kLineStart:
      return ScanLineStart(s);
    case kName:
      return ScanName(s);
    case kValueOws:
      return ScanValueOws(s);
    default:
      return ScanValue(s);
  }
}

// The empty line was read: resolves the head and fills what `out` takes from the facts.
int64_t Complete(Scanner& s) {
  HttpHeadScan* st = s.st;
  size_t head_len = static_cast<size_t>(s.p - s.buf);
  if (head_len > s.opts.max_head_size) return s.Fail(ErrorCode::HTTP_HEAD_TOO_LARGE);
  ErrorCode fe = Finish(st->facts, s.opts, st);
  if (fe != ErrorCode::OK) return s.Fail(fe);
  st->pos = static_cast<uint32_t>(head_len);
  st->phase = kComplete;
  st->result = static_cast<int64_t>(head_len);
  if (HttpRequestHead* out = s.out) {
    out->num_headers = st->num_headers;
    out->framing = st->framing;
    out->content_length = st->facts.content_length;
    out->keep_alive = st->keep_alive;
    out->expect_continue = st->facts.expect_continue;
    out->upgrade = st->facts.upgrade;
  }
  return st->result;
}

}  // namespace

// The fields of a head that a scan sets only when it meets them (a Host line, an Expect
// line): reset before a scan fills `out` from its start, so a head without them never shows
// those of the head parsed before it (which may point into a buffer since freed).
static void ResetHead(HttpRequestHead* out) {
  out->num_headers = 0;
  out->framing = BodyFraming::kNone;
  out->content_length = 0;
  out->keep_alive = false;
  out->expect_continue = false;
  out->upgrade = false;
  out->host_index = -1;
}

int64_t ScanHttpRequestHead(const char* buf, size_t len, const HttpParseOptions& opts, HttpHeadScan* st,
                            HttpRequestHead* out, ErrorCode* err) {
  *err = st->error;
  if (st->phase == kComplete || st->phase == kFailed) return st->result;
  if (out != nullptr && st->pos == 0) ResetHead(out);
  const char* end = buf + (len < opts.max_head_size ? len : opts.max_head_size);
  Scanner s{buf, len, end, opts, st, out, err, buf + st->pos};
  if (end > s.p) st->examined += static_cast<uint64_t>(end - s.p);
  while (st->phase < kEnded) {
    int64_t r = Step(s);
    if (r != kNext) return r;
  }
  return Complete(s);
}

int64_t ParseHttpRequestHead(const char* buf, size_t len, const HttpParseOptions& opts, HttpRequestHead* out,
                             ErrorCode* err) {
  HttpHeadScan scan;
  return ScanHttpRequestHead(buf, len, opts, &scan, out, err);
}

}  // namespace tsgi
