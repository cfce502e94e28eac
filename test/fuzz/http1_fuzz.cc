// libFuzzer target for ParseHttpRequestHead (and the chunked body behind an accepted head).
// Input layout: byte 0 chooses options, byte 1 where the input is cut, the rest is the
// request. Checked invariants, beyond ASan/UBSan's memory checks:
//   - parsing a prefix never contradicts parsing the whole (a success is the same head, an
//     error is the same error), which is what the socket layer relies on when it re-parses;
//   - a scan resumed after the prefix (ScanHttpRequestHead) answers as a one-shot parse;
//   - every returned span lies inside the consumed head and is read byte by byte.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "proto/chunked.h"
#include "proto/http1.h"

using namespace tsgi;

namespace {

volatile uint8_t g_sink;

void Touch(const char* base, int64_t consumed, Span s) {
  if (s.len == 0) return;
  if (s.data < base || s.data + s.len > base + consumed) abort();
  for (size_t i = 0; i < s.len; i++) g_sink = static_cast<uint8_t>(g_sink ^ s.data[i]);
}

void DecodeBody(const char* in, size_t len, size_t cut) {
  ChunkedDecoder d;
  size_t off = 0;
  size_t limit = cut < len ? cut : len;
  for (int round = 0; round < 2; round++) {
    for (;;) {
      size_t used;
      Span data;
      ErrorCode err;
      ChunkedStatus st = ChunkedDecode(&d, in + off, limit - off, ChunkedLimits(), &used, &data, &err);
      off += used;
      if (off > limit) abort();
      Touch(in, static_cast<int64_t>(limit), data);
      if (st != ChunkedStatus::kData) break;
    }
    limit = len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint8_t opt = data[0];
  size_t n = size - 2;
  size_t cut = n * data[1] / 255;
  // An exact-size heap copy so any read past the end is an ASan report.
  std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
  if (n) std::memcpy(buf.get(), data + 2, n);

  HttpParseOptions o;
  o.require_host = (opt & 1) != 0;
  if (opt & 2) o.max_head_size = 16 + (opt >> 3) * 8;
  if (opt & 4) o.max_target_len = opt >> 4;
  static HttpRequestHead head;
  ErrorCode err_prefix = ErrorCode::OK, err = ErrorCode::OK;
  int64_t rc_prefix = ParseHttpRequestHead(buf.get(), cut, o, &head, &err_prefix);
  int64_t rc = ParseHttpRequestHead(buf.get(), n, o, &head, &err);
  if (rc > static_cast<int64_t>(n)) abort();
  if (rc_prefix > 0 && rc != rc_prefix) abort();
  if (rc_prefix < 0 && (rc >= 0 || err != err_prefix)) abort();
  if (rc < 0 && err == ErrorCode::OK) abort();
  // A scan resumed at the cut answers as the one-shot parse, the error included.
  HttpHeadScan scan;
  ErrorCode err_scan = ErrorCode::OK;
  int64_t rc_scan = ScanHttpRequestHead(buf.get(), cut, o, &scan, nullptr, &err_scan);
  if (rc_scan != rc_prefix || (rc_prefix < 0 && err_scan != err_prefix)) abort();
  rc_scan = ScanHttpRequestHead(buf.get(), n, o, &scan, nullptr, &err_scan);
  if (rc_scan != rc || (rc < 0 && err_scan != err)) abort();
  if (rc <= 0) return 0;

  Touch(buf.get(), rc, head.method);
  Touch(buf.get(), rc, head.target);
  Touch(buf.get(), rc, head.path);
  Touch(buf.get(), rc, head.query);
  Touch(buf.get(), rc, head.authority);
  if (head.num_headers > kMaxHeaders) abort();
  for (size_t i = 0; i < head.num_headers; i++) {
    if (head.headers[i].name.len == 0) abort();
    Touch(buf.get(), rc, head.headers[i].name);
    Touch(buf.get(), rc, head.headers[i].value);
  }
  if (head.host_index >= static_cast<int>(head.num_headers)) abort();
  if (head.framing == BodyFraming::kChunked) {
    size_t body = n - static_cast<size_t>(rc);
    DecodeBody(buf.get() + rc, body, cut > static_cast<size_t>(rc) ? cut - rc : 0);
  }
  return 0;
}
