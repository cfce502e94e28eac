// libFuzzer target for ScanHttpResponseHead (the router's view of a worker's response head).
// Byte 0 chooses HEAD or not, the rest is the response. Properties: the scan never reads past
// the input; a complete head is at most the input; the head alone scans to the same result;
// every shorter prefix of it asks for more bytes; the insertion point lies inside the head.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "proto/http1_response.h"

using namespace tsgi;

namespace {

int64_t Scan(const uint8_t* data, size_t len, bool head, HttpResponseHead* out) {
  std::unique_ptr<char[]> buf(new char[len == 0 ? 1 : len]);
  if (len) std::memcpy(buf.get(), data, len);
  return ScanHttpResponseHead(buf.get(), len, head, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool head = data[0] & 1;
  const uint8_t* in = data + 1;
  size_t n = size - 1;
  HttpResponseHead whole;
  int64_t r = Scan(in, n, head, &whole);
  if (r <= 0) return 0;
  if (static_cast<size_t>(r) > n || whole.headers_at == 0 || whole.headers_at > static_cast<size_t>(r))
    abort();
  HttpResponseHead again;
  if (Scan(in, static_cast<size_t>(r), head, &again) != r) abort();
  if (again.framing != whole.framing || again.content_length != whole.content_length ||
      again.status != whole.status || again.connection_close != whole.connection_close) {
    abort();
  }
  for (size_t cut = 0; cut < static_cast<size_t>(r); cut++) {
    HttpResponseHead part;
    if (Scan(in, cut, head, &part) != 0) abort();
  }
  return 0;
}
