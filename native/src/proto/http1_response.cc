#include "proto/http1_response.h"

#include <cstring>

#include "common/chars.h"
#include "common/span.h"
#include "proto/http1.h"

namespace tsgi {

namespace {

// Whether the last coding of a Transfer-Encoding value is "chunked".
bool EndsWithChunked(Span v) {
  const char* comma = nullptr;
  for (size_t i = 0; i < v.len; i++) {
    if (v.data[i] == ',') comma = v.data + i;
  }
  Span last = comma ? TrimOws(comma + 1, v.data + v.len) : v;
  return EqualsLowerAscii(last, "chunked", 7);
}

bool HasToken(Span v, const char* lower, size_t n) {
  const char* p = v.data;
  const char* end = v.data + v.len;
  while (p < end) {
    const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<size_t>(end - p)));
    const char* stop = comma ? comma : end;
    if (EqualsLowerAscii(TrimOws(p, stop), lower, n)) return true;
    p = stop + 1;
  }
  return false;
}

}  // namespace

int64_t ScanHttpResponseHead(const char* buf, size_t len, bool head_request, HttpResponseHead* out) {
  *out = HttpResponseHead{};
  // "HTTP/1.x NNN" is 12 bytes; judge the prefix as soon as it is there.
  static const char kPrefix[] = "HTTP/1.";
  size_t cmp = len < 7 ? len : 7;
  if (std::memcmp(buf, kPrefix, cmp) != 0) return -1;
  // status-line = HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 4); a missing SP
  // before an empty reason is tolerated, a fourth digit is not.
  if (len < 13) return 0;
  if ((buf[7] != '0' && buf[7] != '1') || buf[8] != ' ') return -1;
  if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n') return -1;
  int status = 0;
  for (int i = 9; i < 12; i++) {
    if (buf[i] < '0' || buf[i] > '9') return -1;
    status = status * 10 + (buf[i] - '0');
  }
  out->version_minor = static_cast<uint8_t>(buf[7] - '0');
  out->status = status;

  const char* p = static_cast<const char*>(std::memchr(buf, '\n', len));
  if (p == nullptr) return 0;
  p++;
  out->headers_at = static_cast<size_t>(p - buf);
  const char* end = buf + len;
  bool has_length = false, bad_length = false, has_te = false, chunked = false;
  uint64_t length = 0;
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) return 0;
    const char* line_end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
    if (line_end == p) {
      p = nl + 1;
      break;
    }
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(line_end - p)));
    if (colon != nullptr) {
      Span name{p, static_cast<size_t>(colon - p)};
      Span value = TrimOws(colon + 1, line_end);
      if (EqualsLowerAscii(name, "content-length", 14)) {
        uint64_t n = 0;
        if (!ParseDecimalLength(value, &n) || (has_length && n != length)) bad_length = true;
        has_length = true;
        length = n;
      } else if (EqualsLowerAscii(name, "transfer-encoding", 17)) {
        has_te = true;
        chunked = EndsWithChunked(value);
      } else if (EqualsLowerAscii(name, "connection", 10)) {
        if (HasToken(value, "close", 5)) out->connection_close = true;
      }
    }
    p = nl + 1;
  }

  // RFC 9112 6.3, in its order.
  if (head_request || (status >= 100 && status < 200) || status == 204 || status == 304) {
    out->framing = ResponseFraming::kNoBody;
  } else if (has_te) {
    out->framing = chunked ? ResponseFraming::kChunked : ResponseFraming::kClose;
  } else if (has_length && !bad_length) {
    out->framing = ResponseFraming::kLength;
    out->content_length = length;
  } else {
    out->framing = ResponseFraming::kClose;
  }
  out->has_content_length = has_length;
  return p - buf;
}

}  // namespace tsgi
