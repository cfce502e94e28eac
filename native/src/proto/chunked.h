// Decoder for the chunked transfer coding (RFC 9112 section 7.1). Incremental and pure: it
// is fed whatever bytes have arrived and returns spans of body data inside those bytes, so
// the body is never copied by the decoder. State survives between calls in ChunkedDecoder.
#ifndef TSGI_PROTO_CHUNKED_H_
#define TSGI_PROTO_CHUNKED_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "common/span.h"

namespace tsgi {

struct ChunkedDecoder {
  // Opaque to callers; zero-initialised means "at the start of the first chunk-size line".
  uint8_t state = 0;
  uint64_t remaining = 0;           // data bytes left in the current chunk
  uint32_t line_bytes = 0;          // bytes consumed in the current size/extension/trailer line
  uint32_t trailer_bytes = 0;       // total trailer section bytes so far (bounded)
  uint8_t size_digits = 0;          // significant digits of the current chunk-size (leading zeros skipped)
  ErrorCode error = ErrorCode::OK;  // sticky: once kError is returned, every later call repeats it
};

enum class ChunkedStatus : uint8_t {
  kData,      // *data holds body bytes (possibly empty); call again with the rest of the input
  kNeedMore,  // all input consumed, no data span produced; feed more bytes later
  kDone,      // the last-chunk and trailer section were consumed; *consumed ends the message
  kError,     // *err says why; the connection must be answered and closed
};

struct ChunkedLimits {
  uint64_t max_chunk_size = UINT64_MAX >> 4;  // larger sizes are HTTP_CHUNK_TOO_LARGE
  uint32_t max_line = 4096;                   // chunk-size line incl. extensions, each trailer line
  uint32_t max_trailers = 8192;               // whole trailer section
};

// Consumes bytes from in[0..len). *consumed is set to the number of bytes used (always set).
// On kData, *data points into `in` (data->len may be less than the chunk when input ends).
// Bytes after kDone belong to the next request and are not consumed.
ChunkedStatus ChunkedDecode(ChunkedDecoder* d, const char* in, size_t len, const ChunkedLimits& limits,
                            size_t* consumed, Span* data, ErrorCode* err);

// Decodes as much of in[0..len) as is here, handing every data span to on_data(Span), which
// returns false to stop early (the bytes after that span are left unconsumed). Returns
// kDone or kError (*err says why) as ChunkedDecode does, else kNeedMore (the input ran out
// or on_data stopped). *consumed is always set. The one loop over ChunkedDecode.
template <typename OnData>
ChunkedStatus ChunkedDecodeAll(ChunkedDecoder* d, const char* in, size_t len, const ChunkedLimits& limits,
                               size_t* consumed, ErrorCode* err, OnData on_data) {
  size_t off = 0;
  ChunkedStatus st = ChunkedStatus::kNeedMore;
  while (off < len) {
    size_t used = 0;
    Span piece{};
    st = ChunkedDecode(d, in + off, len - off, limits, &used, &piece, err);
    off += used;
    if (st == ChunkedStatus::kError || st == ChunkedStatus::kDone) break;
    if (st == ChunkedStatus::kData && !on_data(piece)) break;
    if (st == ChunkedStatus::kNeedMore) break;
  }
  if (st == ChunkedStatus::kData) st = ChunkedStatus::kNeedMore;
  *consumed = off;
  return st;
}

}  // namespace tsgi

#endif  // TSGI_PROTO_CHUNKED_H_
