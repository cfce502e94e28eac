// libFuzzer target for the uwsgi parser and encoder (native/src/proto/uwsgi.h).
// The input is a whole packet: header, vars block, body. The target checks the parser's
// promises rather than just "no crash":
//   - every returned span lies inside the block and is read byte by byte (so ASan sees any
//     span that points outside the input), keys are never empty;
//   - a block the parser accepts is re-encoded by EncodeUwsgiPacket into exactly the same
//     bytes (the encoder and parser agree on the format);
//   - ParseUwsgiContentLength accepts only digits, and its value prints back to them (leading
//     zeros aside); digits it refuses are a value above 2^64 - 1.
// Seeds: test/fuzz/corpus/uwsgi/ (hand-made packets and real nginx 1.22 captures).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/uwsgi.h"

using namespace tsgi;

namespace {

volatile unsigned char g_sink;

void Touch(Span s, const char* lo, const char* hi) {
  if (s.len != 0 && (s.data < lo || s.data + s.len > hi)) std::abort();
  unsigned char acc = 0;
  for (size_t i = 0; i < s.len; i++) acc ^= static_cast<unsigned char>(s.data[i]);
  g_sink = acc;
}

void CheckContentLength(Span v) {
  uint64_t n = 0;
  bool ok = ParseUwsgiContentLength(v, &n);
  bool all_digits = true;
  for (size_t i = 0; i < v.len; i++) all_digits = all_digits && v.data[i] >= '0' && v.data[i] <= '9';
  if (ok && !all_digits) std::abort();
  if (!all_digits) return;
  // Leading zeros aside, the digits must read back as the value; refused digits must be a
  // number over 20 significant digits, or 20 that compare above UINT64_MAX's.
  size_t skip = 0;
  while (skip + 1 < v.len && v.data[skip] == '0') skip++;
  std::string digits = v.len == 0 ? "0" : std::string(v.data + skip, v.len - skip);
  if (ok && digits != std::to_string(n)) std::abort();
  static const std::string kMax = std::to_string(UINT64_MAX);
  bool over = digits.size() > kMax.size() || (digits.size() == kMax.size() && digits > kMax);
  if (ok == over) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy, so one byte past the input is outside the allocation.
  std::vector<char> buf(data, data + size);
  const char* p = buf.data();

  UwsgiHeader h;
  if (!ParseUwsgiHeader(p, size, &h)) return 0;
  // Parse the declared block when it is all there, else everything after the header (the
  // parser must be safe on any length, not only on the one the header names).
  size_t len = size - kUwsgiHeaderSize >= h.datasize ? h.datasize : size - kUwsgiHeaderSize;
  std::vector<char> block(p + kUwsgiHeaderSize, p + kUwsgiHeaderSize + len);
  const char* lo = block.data();
  const char* hi = lo + len;

  static UwsgiVar vars[256];
  size_t n = 12345;
  ErrorCode err = ParseUwsgiVars(lo, len, vars, 256, &n);
  if (err != ErrorCode::OK) {
    if (err != ErrorCode::UWSGI_EMPTY_KEY && err != ErrorCode::UWSGI_TRUNCATED_VAR &&
        err != ErrorCode::UWSGI_TOO_MANY_VARS) {
      std::abort();
    }
    return 0;
  }
  if (n > 256) std::abort();
  for (size_t i = 0; i < n; i++) {
    if (vars[i].key.len == 0) std::abort();
    Touch(vars[i].key, lo, hi);
    Touch(vars[i].value, lo, hi);
    CheckContentLength(vars[i].value);
  }

  // Round trip: encode(parse(block)) == header + block.
  size_t need = EncodeUwsgiPacket(h.modifier1, h.modifier2, vars, n, nullptr, 0);
  if (need != kUwsgiHeaderSize + len) std::abort();
  std::vector<char> out(need);
  if (EncodeUwsgiPacket(h.modifier1, h.modifier2, vars, n, out.data(), out.size()) != need) std::abort();
  if (static_cast<uint8_t>(out[0]) != h.modifier1 || static_cast<uint8_t>(out[3]) != h.modifier2)
    std::abort();
  if (len != 0 && std::memcmp(out.data() + kUwsgiHeaderSize, lo, len) != 0) std::abort();
  UwsgiHeader back;
  if (!ParseUwsgiHeader(out.data(), out.size(), &back) || back.datasize != len) std::abort();
  return 0;
}
