// HTTP/1.1 request-head parser (RFC 9112). A pure function over a byte span: no I/O, no
// allocation, no globals. The socket layer owns the buffer; every Span in the result points
// into it and is valid only while that buffer is unchanged.
#ifndef TSGI_PROTO_HTTP1_H_
#define TSGI_PROTO_HTTP1_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "common/span.h"

namespace tsgi {

// Upper bound on header fields in one request head; more is HTTP_TOO_MANY_HEADERS (431).
constexpr size_t kMaxHeaders = 128;

struct HttpHeader {
  Span name;   // as sent (case preserved), never empty
  Span value;  // leading and trailing OWS stripped
};

enum class BodyFraming : uint8_t {
  kNone,     // no body (no Content-Length, no Transfer-Encoding)
  kLength,   // exactly content_length bytes follow
  kChunked,  // chunked transfer coding follows (decode with ChunkedDecoder)
};

// The four forms of request-target (RFC 9112 3.2).
enum class TargetForm : uint8_t {
  kOrigin,    // "/path?query"
  kAbsolute,  // "http://authority/path?query" (3.2.2): an origin server MUST accept it
  kAsterisk,  // "*", for a server-wide OPTIONS (3.2.4); refused with any other method
  kOther,     // authority-form (CONNECT) or anything else: refused when the path is decoded
};

struct HttpRequestHead {
  Span method;
  Span target;  // request-target exactly as sent
  TargetForm form = TargetForm::kOrigin;
  Span authority;  // absolute-form: host[:port] after "scheme://"; empty otherwise
  Span path;       // origin-form: target up to '?' or '#'; absolute-form: what follows the
                   // authority up to '?' or '#' (empty for "http://h" or "http://h?q");
                   // asterisk-form and others: the whole target
  Span query;      // after '?' up to '#', empty when absent
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  HttpHeader headers[kMaxHeaders];
  size_t num_headers = 0;

  // Derived from the fields above, so the socket layer never re-scans headers.
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;   // valid when framing == kLength
  bool keep_alive = false;       // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive
  bool expect_continue = false;  // "Expect: 100-continue"
  bool upgrade = false;          // Connection: upgrade present (served as a plain request)
  int host_index = -1;           // index of the Host header in headers[], -1 if absent
};

struct HttpParseOptions {
  size_t max_head_size = 8192;   // --buffer-size: a head that does not fit is HTTP_HEAD_TOO_LARGE
  size_t max_target_len = 8192;  // a longer request-target is HTTP_URI_TOO_LONG (414)
  bool require_host = true;      // RFC 9112 3.2: HTTP/1.1 requests must carry exactly one Host
};

// Content-Length's 1*DIGIT (RFC 9110 8.6) as a uint64_t: leading zeros are allowed and do not
// count toward overflow ("00000000000000000005" is 5); an empty value, any other byte, or a
// value above 2^64 - 1 is refused. One rule for the HTTP header and uwsgi's CONTENT_LENGTH.
bool ParseDecimalLength(Span v, uint64_t* out);

// Facts gathered from the header fields while the head is scanned, resolved into framing
// and connection flags once the empty line is reached. Part of HttpHeadScan.
struct HttpHeadFacts {
  bool has_cl = false;
  bool has_te = false;
  bool te_empty = true;  // no coding seen yet in any Transfer-Encoding field
  bool te_last_chunked = false;
  bool te_seen_chunked = false;
  bool te_unknown = false;    // a coding other than chunked was seen
  bool te_malformed = false;  // chunked twice, parameters, or a coding that is no token
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool expect_continue = false;
  bool upgrade = false;
  bool host_seen = false;
  uint8_t version_minor = 1;
  uint64_t content_length = 0;
};

// Where a head scan stopped, so the next call with more bytes goes on from there instead of
// from byte 0 (as picohttpparser's last_len does, but exact: the prefix before `pos` is
// known valid, so malformed input is still refused as soon as its bad byte arrives).
// Zero-initialised means "nothing scanned yet". Offsets are relative to the start of the
// head, so the caller may move its buffer between calls as long as the bytes stay the same.
struct HttpHeadScan {
  uint32_t pos = 0;       // bytes examined and found to be a valid prefix
  uint8_t phase = 0;      // where pos is in the grammar (opaque)
  uint32_t tok = 0;       // start of the token pos is inside (method, target, name, value)
  uint32_t name_end = 0;  // end of the current field-name
  uint32_t value = 0;     // start of the current field-value
  uint32_t method = 0, method_len = 0, target = 0, target_len = 0;
  uint32_t num_headers = 0;
  int64_t result = 0;  // once the head is complete: its length; after an error: -1
  ErrorCode error = ErrorCode::OK;
  BodyFraming framing = BodyFraming::kNone;  // valid once the head is complete
  bool keep_alive = false;                   // valid once the head is complete
  HttpHeadFacts facts;
  uint64_t examined = 0;  // bytes looked at across all calls: what a slow client costs
};

// Resumable form of ParseHttpRequestHead: the same answers for the same bytes, looking only
// at what arrived since the previous call (buf must start with the same bytes as before).
// Returns as ParseHttpRequestHead; once the head is complete every later call returns its
// length at once, and scan->framing, keep_alive and facts describe it. `out` is filled only
// when the whole head is scanned in one call; to fill it after a resumed scan, call
// ParseHttpRequestHead on the complete head (once).
int64_t ScanHttpRequestHead(const char* buf, size_t len, const HttpParseOptions& opts, HttpHeadScan* scan,
                            HttpRequestHead* out, ErrorCode* err);

// Parses the request head at buf[0..len).
//   > 0  the head is complete; the value is its length including the final CRLF CRLF.
//   0    more bytes are needed (and len is still within max_head_size).
//   < 0  a syntax or limit error; *err says which. The connection must be answered with
//        ErrorStatus(*err) and closed.
// Leading empty lines before the request line (RFC 9112 2.2 allows at least one CRLF) are
// skipped and counted in the returned length.
// Strict by default: bare LF, bare CR, obs-fold, whitespace before a colon, control bytes,
// CL+TE, conflicting CL, non-chunked final TE, repeated or (on 1.1) missing Host are errors.
int64_t ParseHttpRequestHead(const char* buf, size_t len, const HttpParseOptions& opts, HttpRequestHead* out,
                             ErrorCode* err);

}  // namespace tsgi

#endif  // TSGI_PROTO_HTTP1_H_
