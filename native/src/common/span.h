// A non-owning view of bytes. Parsers return spans into the caller's buffer; a span is valid
// exactly as long as the buffer it points into, which the socket layer owns (see
// native/README.md, "Buffer lifetimes").
#ifndef TSGI_COMMON_SPAN_H_
#define TSGI_COMMON_SPAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tsgi {

struct Span {
  const char* data = nullptr;
  size_t len = 0;

  bool empty() const { return len == 0; }
  bool equals(const char* lit, size_t n) const { return len == n && std::memcmp(data, lit, n) == 0; }
};

// ASCII case-insensitive comparison of a span with a lower-case literal.
inline bool EqualsLowerAscii(Span s, const char* lower, size_t n) {
  if (s.len != n) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s.data[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
    if (c != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

// ASCII case-insensitive comparison of two spans.
inline bool EqualsLowerAsciiSpan(Span a, Span b) {
  if (a.len != b.len) return false;
  for (size_t i = 0; i < a.len; i++) {
    unsigned char x = static_cast<unsigned char>(a.data[i]);
    unsigned char y = static_cast<unsigned char>(b.data[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace tsgi

#endif  // TSGI_COMMON_SPAN_H_
