// libFuzzer target for DecodePathInfo (native/src/proto/uri.h). The whole input is the path.
// Besides memory safety (exact-size input and output buffers), it checks what PATH_INFO
// promises when decoding succeeds: not longer than the input, starts with '/', holds no NUL
// and no "." or ".." segment, and decoding it again changes nothing when it has no '%'
// (dot-segment removal is idempotent). A refusal must be one of the documented errors.
// Seeds: test/fuzz/corpus/uri/.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/uri.h"

using namespace tsgi;

namespace {

bool HasDotSegment(const char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t start = i + 1;  // p[i] == '/'
    size_t end = start;
    while (end < n && p[end] != '/') end++;
    size_t len = end - start;
    if ((len == 1 && p[start] == '.') || (len == 2 && p[start] == '.' && p[start + 1] == '.')) return true;
    i = end;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<char> in(data, data + size);
  std::vector<char> out(size);
  ErrorCode err = ErrorCode::OK;
  long n = DecodePathInfo(Span{in.data(), size}, out.data(), size, &err);
  if (n < 0) {
    if (n != -1 || (err != ErrorCode::HTTP_BAD_PATH && err != ErrorCode::HTTP_NUL_IN_PATH)) std::abort();
    return 0;
  }
  size_t len = static_cast<size_t>(n);
  if (len > size || len == 0 || out[0] != '/') std::abort();
  if (std::memchr(out.data(), '\0', len) != nullptr) std::abort();
  if (HasDotSegment(out.data(), len)) std::abort();
  if (std::memchr(out.data(), '%', len) == nullptr) {
    std::vector<char> again(len);
    ErrorCode err2 = ErrorCode::OK;
    long m = DecodePathInfo(Span{out.data(), len}, again.data(), len, &err2);
    if (m != n || std::memcmp(again.data(), out.data(), len) != 0) std::abort();
  }
  return 0;
}
