// Character classes shared by the parsers (RFC 9110 section 5.6.2 tokens).
#ifndef TSGI_COMMON_CHARS_H_
#define TSGI_COMMON_CHARS_H_

namespace tsgi {

// The symbols of tchar; with ALPHA and DIGIT they make a token character.
constexpr bool IsTcharSymbol(int c) {
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace tsgi

#endif  // TSGI_COMMON_CHARS_H_
