// Chunked transfer coding decoder (RFC 9112 section 7.1).
//
//   chunked-body   = *chunk last-chunk trailer-section CRLF
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size     = 1*HEXDIG
//   last-chunk     = 1*("0") [ chunk-ext ] CRLF
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val  = token / quoted-string
//
// A byte-at-a-time state machine for the framing (sizes, extensions, CRLFs, trailers) and a
// bulk step for chunk data, which is handed back as a span into the caller's input so the
// body is never copied. Strict: whitespace is accepted only where BWS appears above (so
// "5 \r\n" is refused), CRLF only, at most 16 significant hex digits
// (leading zeros are free, up to the line limit), trailer fields are validated like
// header fields (no obs-fold, no whitespace before the colon, no control bytes) and
// discarded. Extensions are validated and ignored.
#include "proto/chunked.h"

#include "common/chars.h"

namespace tsgi {
namespace {

enum State : uint8_t {
  kSizeStart = 0,    // first hex digit of a chunk-size
  kSize,             // further hex digits
  kSizeBws,          // BWS after the size; only ';' may follow
  kExtNameStart,     // after ';': BWS, then the first tchar of a name
  kExtName,          // name characters
  kExtNameBws,       // BWS after a name; '=' or ';' must follow
  kExtValueStart,    // after '=': BWS, then a token or a quoted-string
  kExtValueToken,    // token value characters
  kExtValueBws,      // BWS after a value; ';' must follow
  kExtQuoted,        // inside a quoted-string
  kExtQuotedEscape,  // after a backslash in a quoted-string
  kExtAfterQuoted,   // after the closing DQUOTE
  kSizeLf,           // LF after the size line's CR
  kData,             // chunk data
  kDataCr,           // CR after chunk data
  kDataLf,           // LF after chunk data
  kTrailerStart,     // start of a trailer line (or the final CRLF)
  kTrailerName,      // trailer field-name
  kTrailerValue,     // trailer field-value up to CR
  kTrailerLf,        // LF ending a trailer line
  kEndLf,            // LF of the final CRLF
  kDone,
  kError,
};

inline uint64_t HexValue(char c) {
  if (c <= '9') return static_cast<uint64_t>(c - '0');
  return static_cast<uint64_t>((c | 0x20) - 'a' + 10);
}

bool InSizeLine(uint8_t s) {
  return s <= kSizeLf;
}
bool InTrailer(uint8_t s) {
  return s >= kTrailerStart && s <= kEndLf;
}

}  // namespace

ChunkedStatus ChunkedDecode(ChunkedDecoder* d, const char* in, size_t len, const ChunkedLimits& limits,
                            size_t* consumed, Span* data, ErrorCode* err) {
  *consumed = 0;
  *data = Span{in, 0};
  *err = ErrorCode::OK;
  if (d->state == kDone) return ChunkedStatus::kDone;
  if (d->state == kError) {
    *err = d->error;
    return ChunkedStatus::kError;
  }

  size_t i = 0;
  auto fail = [&](ErrorCode code) {
    d->state = kError;
    d->error = code;
    *err = code;
    *consumed = i;
    return ChunkedStatus::kError;
  };

  while (i < len) {
    uint8_t s = d->state;
    if (s == kData) {
      size_t avail = len - i;
      size_t n = d->remaining < avail ? static_cast<size_t>(d->remaining) : avail;
      *data = Span{in + i, n};
      d->remaining -= n;
      if (d->remaining == 0) d->state = kDataCr;
      *consumed = i + n;
      return ChunkedStatus::kData;
    }

    char c = in[i];
    if (InSizeLine(s)) {
      if (++d->line_bytes > limits.max_line) return fail(ErrorCode::HTTP_CHUNK_LINE_TOO_LONG);
    } else if (InTrailer(s)) {
      if (++d->line_bytes > limits.max_line) return fail(ErrorCode::HTTP_CHUNK_LINE_TOO_LONG);
      if (++d->trailer_bytes > limits.max_trailers) return fail(ErrorCode::HTTP_TRAILERS_TOO_LARGE);
    }

    switch (s) {
      case kSizeStart:
      case kSize:
        if (Is(c, kHex)) {
          // Only significant digits count: "000000000000000005" is 5 (1*HEXDIG puts no bound
          // on leading zeros; max_line does).
          bool significant = d->remaining != 0 || c != '0';
          if (significant && ++d->size_digits > 16) return fail(ErrorCode::HTTP_CHUNK_TOO_LARGE);
          d->remaining = (d->remaining << 4) | HexValue(c);
          if (d->remaining > limits.max_chunk_size) return fail(ErrorCode::HTTP_CHUNK_TOO_LARGE);
          d->state = kSize;
        } else if (s == kSizeStart) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_SIZE);
        } else if (c == '\r') {
          d->state = kSizeLf;
        } else if (c == ';') {
          d->state = kExtNameStart;
        } else if (IsOws(c)) {
          d->state = kSizeBws;
        } else {
          return fail(ErrorCode::HTTP_BAD_CHUNK_SIZE);
        }
        break;
      case kSizeBws:
        if (c == ';') {
          d->state = kExtNameStart;
        } else if (!IsOws(c)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_SIZE);
        }
        break;
      case kExtNameStart:
        if (Is(c, kTchar)) {
          d->state = kExtName;
        } else if (!IsOws(c)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtName:
        if (Is(c, kTchar)) break;
        if (c == '\r') {
          d->state = kSizeLf;
        } else if (c == ';') {
          d->state = kExtNameStart;
        } else if (c == '=') {
          d->state = kExtValueStart;
        } else if (IsOws(c)) {
          d->state = kExtNameBws;
        } else {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtNameBws:
        if (c == ';') {
          d->state = kExtNameStart;
        } else if (c == '=') {
          d->state = kExtValueStart;
        } else if (!IsOws(c)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtValueStart:
        if (Is(c, kTchar)) {
          d->state = kExtValueToken;
        } else if (c == '"') {
          d->state = kExtQuoted;
        } else if (!IsOws(c)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtValueToken:
      case kExtAfterQuoted:
        if (s == kExtValueToken && Is(c, kTchar)) break;
        if (c == '\r') {
          d->state = kSizeLf;
        } else if (c == ';') {
          d->state = kExtNameStart;
        } else if (IsOws(c)) {
          d->state = kExtValueBws;
        } else {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtValueBws:
        if (c == ';') {
          d->state = kExtNameStart;
        } else if (!IsOws(c)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtQuoted:
        if (c == '"') {
          d->state = kExtAfterQuoted;
        } else if (c == '\\') {
          d->state = kExtQuotedEscape;
        } else if (!Is(c, kQdtext)) {
          return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        }
        break;
      case kExtQuotedEscape:
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (!Is(c, kFieldValue)) return fail(ErrorCode::HTTP_BAD_CHUNK_EXT);
        d->state = kExtQuoted;
        break;
      case kSizeLf:
        if (c != '\n') return fail(ErrorCode::HTTP_BAD_CHUNK_SIZE);
        d->line_bytes = 0;
        d->size_digits = 0;
        d->state = d->remaining == 0 ? kTrailerStart : kData;
        break;
      case kDataCr:
        if (c != '\r') return fail(ErrorCode::HTTP_BAD_CHUNK_DATA);
        d->state = kDataLf;
        break;
      case kDataLf:
        if (c != '\n') return fail(ErrorCode::HTTP_BAD_CHUNK_DATA);
        d->state = kSizeStart;
        break;
      case kTrailerStart:
        if (c == '\r') {
          d->state = kEndLf;
        } else if (Is(c, kTchar)) {
          d->state = kTrailerName;
        } else {
          return fail(ErrorCode::HTTP_BAD_TRAILER);  // obs-fold, bare LF or a bad name
        }
        break;
      case kTrailerName:
        if (c == ':') {
          d->state = kTrailerValue;
        } else if (!Is(c, kTchar)) {
          return fail(ErrorCode::HTTP_BAD_TRAILER);
        }
        break;
      case kTrailerValue:
        if (c == '\r') {
          d->state = kTrailerLf;
        } else if (!Is(c, kFieldValue)) {
          return fail(ErrorCode::HTTP_BAD_TRAILER);
        }
        break;
      case kTrailerLf:
        if (c != '\n') return fail(ErrorCode::HTTP_BAD_TRAILER);
        d->line_bytes = 0;
        d->state = kTrailerStart;
        break;
      case kEndLf:
        if (c != '\n') return fail(ErrorCode::HTTP_BAD_TRAILER);
        d->state = kDone;
        *consumed = i + 1;
        return ChunkedStatus::kDone;
      default:
        return fail(ErrorCode::HTTP_BAD_CHUNK_DATA);
    }
    i++;
  }
  *consumed = i;
  return ChunkedStatus::kNeedMore;
}

}  // namespace tsgi
