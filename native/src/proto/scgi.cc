// SCGI request parser (docs/protocol-scgi.md). Pure: no allocation, no I/O. Every offset is
// checked against the bytes present before it is read.
#include "proto/scgi.h"

#include <cstring>

#include "proto/http1.h"

namespace tsgi {

namespace {

// "<digits>:" at buf. Returns the prefix size (digits and ':'), 0 when incomplete, -1 when
// malformed. Netstrings forbid leading zeros (D. J. Bernstein, "Netstrings", 1997).
int64_t ReadNetstringLength(const char* buf, size_t len, size_t* value) {
  size_t v = 0;
  size_t i = 0;
  for (; i < len; i++) {
    char ch = buf[i];
    if (ch == ':') break;
    // A digit past the ninth is refused here, before its ':' arrives: the loop used to stop
    // at kScgiMaxLengthDigits + 1 digits and then accept a ':' after them, so a 10-digit
    // length went through (waiting for a block of up to 9999999999 bytes, or reported as
    // SCGI_BLOCK_TOO_LARGE instead of SCGI_BAD_NETSTRING).
    if (i == kScgiMaxLengthDigits) return -1;
    if (ch < '0' || ch > '9') return -1;
    if (i == 1 && buf[0] == '0') return -1;
    v = v * 10 + static_cast<size_t>(ch - '0');
  }
  if (i == len) return 0;
  if (i == 0) return -1;  // ':' with no digits before it
  *value = v;
  return static_cast<int64_t>(i + 1);
}

// The NUL-terminated string at block[pos..len): its span, and pos moved past the NUL.
bool ReadCString(const char* block, size_t len, size_t* pos, Span* out) {
  const char* start = block + *pos;
  const void* nul = std::memchr(start, '\0', len - *pos);
  if (nul == nullptr) return false;
  size_t n = static_cast<size_t>(static_cast<const char*>(nul) - start);
  *out = Span{start, n};
  *pos += n + 1;
  return true;
}

ErrorCode ParseHeaders(const char* block, size_t len, UwsgiVar* vars, size_t max_vars, size_t* num_vars) {
  size_t pos = 0;
  size_t count = 0;
  while (pos < len) {
    Span name, value;
    if (!ReadCString(block, len, &pos, &name)) return ErrorCode::SCGI_BAD_HEADERS;
    if (name.empty()) return ErrorCode::SCGI_EMPTY_NAME;
    if (pos == len || !ReadCString(block, len, &pos, &value)) return ErrorCode::SCGI_BAD_HEADERS;
    if (count == max_vars) return ErrorCode::SCGI_TOO_MANY_VARS;
    vars[count].key = name;
    vars[count].value = value;
    count++;
  }
  *num_vars = count;
  return ErrorCode::OK;
}

}  // namespace

int64_t ParseScgiRequest(const char* buf, size_t len, size_t max_block, UwsgiVar* vars, size_t max_vars,
                         ScgiRequestHead* out, ErrorCode* err) {
  size_t block_len = 0;
  int64_t prefix = ReadNetstringLength(buf, len, &block_len);
  if (prefix < 0) {
    *err = ErrorCode::SCGI_BAD_NETSTRING;
    return -1;
  }
  if (prefix == 0) return 0;
  if (block_len > max_block) {
    *err = ErrorCode::SCGI_BLOCK_TOO_LARGE;
    return -1;
  }
  size_t start = static_cast<size_t>(prefix);
  if (len - start < block_len + 1) return 0;
  if (buf[start + block_len] != ',') {
    *err = ErrorCode::SCGI_BAD_NETSTRING;
    return -1;
  }
  const char* block = buf + start;
  size_t n = 0;
  ErrorCode e = ParseHeaders(block, block_len, vars, max_vars, &n);
  if (e != ErrorCode::OK) {
    *err = e;
    return -1;
  }
  // The specification: "The first header must have the name CONTENT_LENGTH"; "a header
  // with the name SCGI and a value of 1 must be present".
  if (n == 0 || !vars[0].key.equals("CONTENT_LENGTH", 14)) {
    *err = ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST;
    return -1;
  }
  uint64_t content_length = 0;
  if (vars[0].value.empty() || !ParseDecimalLength(vars[0].value, &content_length)) {
    *err = ErrorCode::SCGI_BAD_CONTENT_LENGTH;
    return -1;
  }
  bool scgi = false;
  for (size_t i = 1; i < n; i++) {
    if (vars[i].key.equals("SCGI", 4) && vars[i].value.equals("1", 1)) scgi = true;
  }
  if (!scgi) {
    *err = ErrorCode::SCGI_NO_SCGI_HEADER;
    return -1;
  }
  out->block = block;
  out->block_len = block_len;
  out->num_vars = n;
  out->content_length = content_length;
  return static_cast<int64_t>(start + block_len + 1);
}

}  // namespace tsgi
