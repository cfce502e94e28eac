// libFuzzer target for the SCGI request parser (native/src/proto/scgi.h). The input is what a
// web server writes on a connection: a netstring "<length>:<headers>," then the body (the
// SCGI specification). The target checks the parser's promises rather than just "no crash":
//   - fed every prefix of the input, as reads arrive, ParseScgiRequest answers 0 ("more
//     bytes") until it gives the result it gives for the whole input, and that result never
//     changes afterwards (body bytes after the netstring do not matter);
//   - errors are only the documented SCGI_* codes;
//   - SCGI_BLOCK_TOO_LARGE comes only after a well-formed length (1 to kScgiMaxLengthDigits
//     digits, no leading zero, then ':') whose value exceeds max_block;
//   - an accepted request has CONTENT_LENGTH first with its decimal value in content_length,
//     SCGI=1 among its pairs, non-empty names, spans inside the block, and the netstring
//     rebuilt from the pairs is exactly the bytes the parser consumed.
// Both a roomy (8192-byte block, 256 pairs) and a tight (100 bytes, 4 pairs) configuration run.
// Seeds: test/fuzz/corpus/scgi/ (real nginx 1.22 requests and hand-made netstrings).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/scgi.h"

using namespace tsgi;

namespace {

volatile unsigned char g_sink;

struct Answer {
  int64_t size;
  ErrorCode err;
  bool operator==(const Answer& o) const { return size == o.size && (size != -1 || err == o.err); }
};

Answer Parse(const uint8_t* data, size_t len, size_t max_block, size_t max_vars, UwsgiVar* vars,
             ScgiRequestHead* head, std::vector<char>* keep) {
  // An exact-size copy, so one byte past the input is outside the allocation.
  keep->assign(data, data + len);
  ErrorCode err = ErrorCode::OK;
  int64_t n = ParseScgiRequest(keep->data(), len, max_block, vars, max_vars, head, &err);
  if (n < -1) std::abort();
  if (n == -1) {
    switch (err) {
      case ErrorCode::SCGI_BAD_NETSTRING:
      case ErrorCode::SCGI_BLOCK_TOO_LARGE:
      case ErrorCode::SCGI_BAD_HEADERS:
      case ErrorCode::SCGI_EMPTY_NAME:
      case ErrorCode::SCGI_TOO_MANY_VARS:
      case ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST:
      case ErrorCode::SCGI_BAD_CONTENT_LENGTH:
      case ErrorCode::SCGI_NO_SCGI_HEADER:
        break;
      default:
        std::abort();
    }
  }
  if (n > 0 && static_cast<size_t>(n) > len) std::abort();
  return Answer{n, err};
}

void CheckAccepted(const char* buf, size_t size, const ScgiRequestHead& head, const UwsgiVar* vars,
                   size_t max_vars) {
  const char* lo = head.block;
  const char* hi = lo + head.block_len;
  if (lo < buf || hi > buf + size || head.num_vars == 0 || head.num_vars > max_vars) std::abort();
  std::string rebuilt;
  bool scgi = false;
  for (size_t i = 0; i < head.num_vars; i++) {
    Span k = vars[i].key, v = vars[i].value;
    if (k.len == 0 || k.data < lo || k.data + k.len > hi || v.data < lo || v.data + v.len > hi) std::abort();
    if (std::memchr(k.data, '\0', k.len) != nullptr || std::memchr(v.data, '\0', v.len) != nullptr)
      std::abort();
    rebuilt.append(k.data, k.len).push_back('\0');
    rebuilt.append(v.data, v.len).push_back('\0');
    scgi = scgi || (k.equals("SCGI", 4) && v.equals("1", 1));
  }
  if (!scgi || !vars[0].key.equals("CONTENT_LENGTH", 14)) std::abort();
  std::string cl(vars[0].value.data, vars[0].value.len);
  if (cl.empty() || cl.find_first_not_of("0123456789") != std::string::npos) std::abort();
  size_t skip = cl.find_first_not_of('0');
  std::string digits = skip == std::string::npos ? "0" : cl.substr(skip);
  if (digits != std::to_string(head.content_length)) std::abort();
  rebuilt = std::to_string(head.block_len) + ":" + rebuilt + ",";
  if (rebuilt.size() > size || std::memcmp(rebuilt.data(), buf, rebuilt.size()) != 0) std::abort();
  g_sink = static_cast<unsigned char>(rebuilt.size());
}

void CheckTooLarge(const uint8_t* data, size_t size, size_t max_block) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < size && data[i] >= '0' && data[i] <= '9') v = v * 10 + (data[i++] - '0');
  if (i == 0 || i > kScgiMaxLengthDigits || i == size || data[i] != ':') std::abort();
  if ((data[0] == '0' && i > 1) || v <= max_block) std::abort();
}

void Check(const uint8_t* data, size_t size, size_t max_block, size_t max_vars) {
  static UwsgiVar vars[257];
  std::vector<char> keep;
  ScgiRequestHead head;
  Answer whole = Parse(data, size, max_block, max_vars, vars, &head, &keep);
  if (whole.size > 0) {
    CheckAccepted(keep.data(), size, head, vars, max_vars);
    if (head.block_len > max_block) std::abort();
  }
  if (whole.size == -1 && whole.err == ErrorCode::SCGI_BLOCK_TOO_LARGE) CheckTooLarge(data, size, max_block);
  // Every prefix: 0 until the answer, then the answer. Long inputs check every prefix near
  // the start and near the answer, and every 7th elsewhere, to keep runs fast.
  bool answered = false;
  size_t end = whole.size > 0 ? static_cast<size_t>(whole.size) : size;
  for (size_t len = 0; len <= size; len++) {
    bool near = len < 64 || len + 64 > end;
    if (size > 512 && !near && len % 7 != 0) continue;
    ScgiRequestHead h;
    std::vector<char> k;
    Answer a = Parse(data, len, max_block, max_vars, vars, &h, &k);
    if (a.size == 0) {
      if (answered) std::abort();
      continue;
    }
    if (!(a == whole)) std::abort();
    answered = true;
    if (len > end) break;  // body bytes: the answer is fixed
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(data, size, 8192, 256);
  Check(data, size, 100, 4);
  return 0;
}
