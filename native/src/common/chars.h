// Character classes shared by the parsers: one 256-entry table (RFC 9110 sections 5.5, 5.6),
// so the request head, the chunked coding and the response scanner agree byte for byte.
#ifndef TSGI_COMMON_CHARS_H_
#define TSGI_COMMON_CHARS_H_

#include <cstddef>
#include <cstdint>

#include "common/span.h"

namespace tsgi {

// The symbols of tchar; with ALPHA and DIGIT they make a token character.
constexpr bool IsTcharSymbol(int c) {
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Character classes, one bit each.
enum CharClass : uint8_t {
  kTchar = 1,       // token character (RFC 9110 5.6.2)
  kFieldValue = 2,  // field-vchar, SP, HTAB, obs-text (RFC 9110 5.5)
  kTargetChar = 4,  // allowed in a request-target: visible ASCII
  kQdtext = 8,      // HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 5.6.4)
  kHex = 16,        // HEXDIG
};

struct CharTable {
  uint8_t bits[256];
};

constexpr CharTable BuildCharTable() {
  CharTable t{};
  for (int c = 0; c < 256; c++) {
    uint8_t b = 0;
    bool digit = c >= '0' && c <= '9';
    bool alnum = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool vchar = c >= 0x21 && c <= 0x7e;
    if (alnum || IsTcharSymbol(c)) b |= kTchar;
    if (vchar || c >= 0x80 || c == ' ' || c == '\t') b |= kFieldValue;
    if (vchar) b |= kTargetChar;
    if ((b & kFieldValue) && c != '"' && c != '\\') b |= kQdtext;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) b |= kHex;
    t.bits[c] = b;
  }
  return t;
}

inline constexpr CharTable kChars = BuildCharTable();

inline bool Is(char c, uint8_t cls) {
  return (kChars.bits[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool IsOws(char c) {
  return c == ' ' || c == '\t';
}
// Writes v in decimal at out (room for 20 digits) without the printf machinery, which is
// measurable on paths taken once per request; returns the number of digits.
inline size_t FormatDecimal(uint64_t v, char* out) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

inline bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// The bytes in [b, e) with leading and trailing OWS (SP, HTAB; RFC 9110 5.6.3) removed.
inline Span TrimOws(const char* b, const char* e) {
  while (b < e && IsOws(*b)) b++;
  while (e > b && IsOws(e[-1])) e--;
  return Span{b, static_cast<size_t>(e - b)};
}

}  // namespace tsgi

#endif  // TSGI_COMMON_CHARS_H_
