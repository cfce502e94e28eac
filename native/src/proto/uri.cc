// PATH_INFO decoding (see uri.h). Two passes over the caller's output buffer: percent-decode
// into it, then remove dot segments in place. Decoding first is deliberate: "%2e%2e" must act
// as ".." or a path check done on PATH_INFO could be walked around (uWSGI 2.0 normalises
// first and decodes after, http_url_decode in core/utils.c; docs/protocol-uwsgi.md, "PATH_INFO
// on the HTTP side"; nginx decodes first, like us).
#include "proto/uri.h"

#include <cstring>

namespace tsgi {

namespace {

inline int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A path needs the slow path only if it has an escape or a segment that starts with '.'.
// A raw NUL also goes the slow way so that it is refused there.
bool NeedsWork(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c == '%' || c == '\0') return true;
    if (c == '.' && p[i - 1] == '/') return true;  // i > 0: p[0] is '/', not '.'
  }
  return false;
}

// Percent-decodes src into out (out_cap >= n is checked by the caller). Returns the decoded
// length or -1 with *err set.
long PercentDecode(const char* src, size_t n, char* out, ErrorCode* err) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(src[i]);
    if (c == '%') {
      if (i + 2 >= n) {  // fewer than two bytes after the '%'
        *err = ErrorCode::HTTP_BAD_PATH;
        return -1;
      }
      int hi = HexValue(static_cast<unsigned char>(src[i + 1]));
      int lo = HexValue(static_cast<unsigned char>(src[i + 2]));
      if (hi < 0 || lo < 0) {
        *err = ErrorCode::HTTP_BAD_PATH;
        return -1;
      }
      c = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') {
      *err = ErrorCode::HTTP_NUL_IN_PATH;
      return -1;
    }
    out[w++] = static_cast<char>(c);
  }
  return static_cast<long>(w);
}

// RFC 3986 5.2.4 on a decoded absolute path, in place. buf[0] is '/'. The path is read one
// segment at a time (the bytes after a '/' up to the next '/' or the end); the output keeps
// "/seg" for each kept segment, so it never grows past the read position and writing in
// place is safe. "." is dropped, ".." drops the last kept segment (refused at the root, as
// nginx answers 400), and a trailing "." or ".." leaves a trailing '/' ("/a/b/.." -> "/a/").
long RemoveDotSegments(char* buf, size_t n, ErrorCode* err) {
  size_t r = 0;  // at a '/'
  size_t w = 0;  // output length, without the trailing '/' of a final dot segment
  while (r < n) {
    size_t start = r + 1;
    size_t end = start;
    while (end < n && buf[end] != '/') end++;
    size_t seglen = end - start;
    bool last = end == n;
    if (seglen == 1 && buf[start] == '.') {
      if (last) buf[w++] = '/';
    } else if (seglen == 2 && buf[start] == '.' && buf[start + 1] == '.') {
      if (w == 0) {
        *err = ErrorCode::HTTP_BAD_PATH;
        return -1;
      }
      while (buf[w - 1] != '/') w--;
      w--;  // drop the '/' that opened the segment
      if (last) buf[w++] = '/';
    } else {
      // memmove: the segment may overlap its new place when w < r.
      std::memmove(buf + w, buf + r, seglen + 1);
      w += seglen + 1;
    }
    r = end;
  }
  return static_cast<long>(w);
}

}  // namespace

long DecodePathInfo(Span path, char* out, size_t out_cap, ErrorCode* err) {
  if (path.len == 0 || path.data[0] != '/') {
    *err = ErrorCode::HTTP_BAD_PATH;
    return -1;
  }
  // The result is never longer than the input, but the decoder writes before it knows how
  // much dot-segment removal will take away, so it needs the full input length.
  if (out_cap < path.len) {
    *err = ErrorCode::HTTP_URI_TOO_LONG;
    return -1;
  }
  if (!NeedsWork(path.data, path.len)) {
    std::memcpy(out, path.data, path.len);
    return static_cast<long>(path.len);
  }
  long n = PercentDecode(path.data, path.len, out, err);
  if (n < 0) return -1;
  return RemoveDotSegments(out, static_cast<size_t>(n), err);
}

}  // namespace tsgi
