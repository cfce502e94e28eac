// libFuzzer target for the FastCGI record parser and encoders (native/src/proto/fastcgi.h).
// The input is read as what a web server writes on a connection: a sequence of records
// (FastCGI Specification section 3.3), the last one possibly cut short. The target checks the
// parsers' promises rather than just "no crash":
//   - each header reads back through AppendFcgiHeader into the same 7 bytes (the 8th is
//     reserved), and FcgiRecordSize is header + content + padding;
//   - a BEGIN_REQUEST body is accepted exactly when it is 8 bytes (spec 5.1);
//   - ParseFcgiParams, run over every record's content and over all PARAMS contents joined
//     (spec 3.4), returns only its documented errors, spans inside the stream and non-empty
//     names; an accepted stream re-encoded with AppendFcgiNameValue parses back to the same
//     pairs, and is the same bytes unless the input used a 4-byte length below 128;
//     FCGI_TOO_MANY_PARAMS at a small max_vars is never the answer at a large one;
//   - AppendFcgiGetValuesResult over accepted pairs is one record that parses back, naming
//     only FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS (spec 4.1);
//   - AppendFcgiStream splits the whole input into records of at most 65535 bytes that join
//     back to it.
// Seeds: test/fuzz/corpus/fastcgi/ (real nginx 1.22 connections and hand-made records).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/fastcgi.h"

using namespace tsgi;

namespace {

volatile unsigned char g_sink;

constexpr size_t kSmallMax = 16;
constexpr size_t kLargeMax = 65536;  // more than any input can hold (a pair is >= 2 bytes)
UwsgiVar g_vars[kLargeMax];
UwsgiVar g_back[kLargeMax];

void Touch(Span s, const char* lo, const char* hi) {
  if (s.len != 0 && (s.data < lo || s.data + s.len > hi)) std::abort();
  unsigned char acc = 0;
  for (size_t i = 0; i < s.len; i++) acc ^= static_cast<unsigned char>(s.data[i]);
  g_sink = acc;
}

bool SameSpan(Span a, Span b) {
  return a.len == b.len && (a.len == 0 || std::memcmp(a.data, b.data, a.len) == 0);
}

void CheckParams(const char* data, size_t len) {
  // An exact-size copy, so one byte past the stream is outside the allocation.
  std::vector<char> copy(data, data + len);
  const char* lo = copy.data();
  const char* hi = lo + len;
  size_t small_n = 0, n = 0;
  ErrorCode small = ParseFcgiParams(lo, len, g_vars, kSmallMax, &small_n);
  ErrorCode err = ParseFcgiParams(lo, len, g_vars, kLargeMax, &n);
  if (err == ErrorCode::FCGI_TOO_MANY_PARAMS) std::abort();
  if (small != err && !(small == ErrorCode::FCGI_TOO_MANY_PARAMS)) std::abort();
  if (err != ErrorCode::OK) {
    if (err != ErrorCode::FCGI_TRUNCATED_PARAM && err != ErrorCode::FCGI_EMPTY_NAME) std::abort();
    if (n != 0) std::abort();
    return;
  }
  if (small == ErrorCode::OK ? (small_n != n || n > kSmallMax) : n <= kSmallMax) std::abort();
  std::string enc;
  for (size_t i = 0; i < n; i++) {
    if (g_vars[i].key.len == 0) std::abort();
    Touch(g_vars[i].key, lo, hi);
    Touch(g_vars[i].value, lo, hi);
    AppendFcgiNameValue(&enc, g_vars[i].key, g_vars[i].value);
  }
  // The encoder writes the shortest length forms, so it is never longer than the input.
  if (enc.size() > len || (enc.size() == len && (len != 0 && std::memcmp(enc.data(), lo, len) != 0)))
    std::abort();
  size_t back_n = 0;
  if (ParseFcgiParams(enc.data(), enc.size(), g_back, kLargeMax, &back_n) != ErrorCode::OK || back_n != n)
    std::abort();
  for (size_t i = 0; i < n; i++) {
    if (!SameSpan(g_back[i].key, g_vars[i].key) || !SameSpan(g_back[i].value, g_vars[i].value)) std::abort();
  }

  // Treated as a GET_VALUES query.
  FcgiLimits limits;
  limits.max_conns = 7;
  limits.max_reqs = 4294967295u;
  limits.mpxs_conns = len % 2 == 0;
  std::string out;
  AppendFcgiGetValuesResult(&out, g_vars, n, limits);
  FcgiRecordHeader h;
  if (!ParseFcgiRecordHeader(out.data(), out.size(), &h) || h.type != kFcgiGetValuesResult ||
      h.request_id != 0 || h.padding_length != 0 || FcgiRecordSize(h) != out.size()) {
    std::abort();
  }
  size_t res_n = 0;
  if (ParseFcgiParams(out.data() + kFcgiHeaderSize, h.content_length, g_back, kLargeMax, &res_n) !=
      ErrorCode::OK)
    std::abort();
  for (size_t i = 0; i < res_n; i++) {
    Span k = g_back[i].key, v = g_back[i].value;
    bool known = (k.equals("FCGI_MAX_CONNS", 14) && v.equals("7", 1)) ||
                 (k.equals("FCGI_MAX_REQS", 13) && v.equals("4294967295", 10)) ||
                 (k.equals("FCGI_MPXS_CONNS", 15) && v.equals(limits.mpxs_conns ? "1" : "0", 1));
    if (!known) std::abort();
  }
}

void CheckHeader(const char* p, const FcgiRecordHeader& h) {
  std::string enc;
  AppendFcgiHeader(&enc, h.type, h.request_id, h.content_length, h.padding_length);
  if (enc.size() != kFcgiHeaderSize || std::memcmp(enc.data() + 1, p + 1, 6) != 0 || enc[0] != 1 ||
      enc[7] != 0)
    std::abort();
  if (h.version != static_cast<uint8_t>(p[0])) std::abort();
  if (FcgiRecordSize(h) != kFcgiHeaderSize + h.content_length + h.padding_length) std::abort();
}

void CheckStream(const char* data, size_t len) {
  std::string out;
  AppendFcgiStream(&out, kFcgiStdout, 1, data, len);
  size_t pos = 0, joined = 0;
  FcgiRecordHeader h;
  while (ParseFcgiRecordHeader(out.data() + pos, out.size() - pos, &h)) {
    if (h.type != kFcgiStdout || h.content_length == 0 || h.padding_length != 0) std::abort();
    if (std::memcmp(out.data() + pos + kFcgiHeaderSize, data + joined, h.content_length) != 0) std::abort();
    joined += h.content_length;
    pos += FcgiRecordSize(h);
  }
  if (pos != out.size() || joined != len) std::abort();
  if (len != 0 && out.size() != len + kFcgiHeaderSize * ((len + kFcgiMaxContent - 1) / kFcgiMaxContent))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<char> buf(data, data + size);
  const char* p = buf.data();
  std::string params;
  size_t pos = 0;
  while (true) {
    FcgiRecordHeader h;
    bool got = ParseFcgiRecordHeader(p + pos, size - pos, &h);
    if (got != (size - pos >= kFcgiHeaderSize)) std::abort();
    if (!got) break;
    CheckHeader(p + pos, h);
    pos += kFcgiHeaderSize;
    // The parsers must be safe on what is there, not only on what the header names.
    size_t content = std::min<size_t>(h.content_length, size - pos);
    std::vector<char> body(p + pos, p + pos + content);
    FcgiBeginRequest b;
    ErrorCode e = ParseFcgiBeginRequest(body.data(), body.size(), &b);
    if ((e == ErrorCode::OK) != (content == 8)) std::abort();
    if (e != ErrorCode::OK && e != ErrorCode::FCGI_BAD_BEGIN_REQUEST) std::abort();
    if (e == ErrorCode::OK &&
        (b.role != ((static_cast<uint8_t>(body[0]) << 8) | static_cast<uint8_t>(body[1])) ||
         b.flags != static_cast<uint8_t>(body[2]))) {
      std::abort();
    }
    CheckParams(body.data(), body.size());
    if (h.type == kFcgiParams) params.append(body.data(), body.size());
    pos += content;
    pos += std::min<size_t>(h.padding_length, size - pos);
  }
  CheckParams(params.data(), params.size());
  CheckStream(p, size);
  return 0;
}
