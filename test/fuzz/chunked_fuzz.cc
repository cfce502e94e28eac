// libFuzzer target for ChunkedDecode. Byte 0 chooses the limits, byte 1 where the input is
// cut; the rest is a chunked body. Decoding it whole and decoding it in two pieces must give
// the same status, data and consumed count, and every data span is read byte by byte.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "proto/chunked.h"

using namespace tsgi;

namespace {

struct Run {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  std::string data;
  size_t consumed = 0;
  ErrorCode err = ErrorCode::OK;
};

// Feeds in[0..cut) then in[cut..len) to one decoder, the way a socket layer would.
Run Decode(const char* in, size_t len, size_t cut, const ChunkedLimits& limits) {
  ChunkedDecoder d;
  Run r;
  size_t off = 0;
  size_t ends[2] = {cut, len};
  for (size_t end : ends) {
    for (;;) {
      size_t used;
      Span data;
      ErrorCode err;
      ChunkedStatus st = ChunkedDecode(&d, in + off, end - off, limits, &used, &data, &err);
      off += used;
      if (off > end) abort();
      if (data.len && (data.data < in || data.data + data.len > in + end)) abort();
      for (size_t i = 0; i < data.len; i++) r.data.push_back(data.data[i]);
      r.status = st;
      r.err = err;
      if (st != ChunkedStatus::kData) break;
    }
    if (r.status != ChunkedStatus::kNeedMore) break;
  }
  r.consumed = off;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint8_t opt = data[0];
  size_t n = size - 2;
  size_t cut = n * data[1] / 255;
  std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
  if (n) std::memcpy(buf.get(), data + 2, n);

  ChunkedLimits limits;
  if (opt & 1) limits.max_chunk_size = opt >> 2;
  if (opt & 2) limits.max_line = 4 + (opt >> 4);
  if (opt & 2) limits.max_trailers = 8 + (opt >> 3);

  Run whole = Decode(buf.get(), n, n, limits);
  Run split = Decode(buf.get(), n, cut, limits);
  if (whole.status != split.status || whole.data != split.data || whole.consumed != split.consumed ||
      whole.err != split.err) {
    abort();
  }
  if (whole.status == ChunkedStatus::kError && whole.err == ErrorCode::OK) abort();
  return 0;
}
