// Unit tests of native/src/proto/fastcgi.{h,cc} against the FastCGI Specification (Open Market,
// 1996; sections cited as "spec N.N"). The last tests replay every fixture in
// test/fixtures/fastcgi/*.md (format in README.md there): params streams and whole
// connections captured from nginx. Inputs are copied to the end of a page followed by a
// PROT_NONE page, so any read past the input faults even without ASan.
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.h"
#include "harness.h"
#include "proto/fastcgi.h"

using namespace tsgi;

namespace {

// Holds a copy of `bytes` that ends exactly where an unreadable page begins.
class Guarded {
 public:
  explicit Guarded(const std::string& bytes) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t pages = (bytes.size() + page - 1) / page + 1;
    size_ = pages * page;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = static_cast<char*>(m);
    mprotect(base_ + (pages - 1) * page, page, PROT_NONE);
    data_ = base_ + (pages - 1) * page - bytes.size();
    std::copy(bytes.begin(), bytes.end(), data_);
    len_ = bytes.size();
  }
  ~Guarded() { munmap(base_, size_); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
  const char* data() const { return data_; }
  size_t size() const { return len_; }

 private:
  char* base_;
  char* data_;
  size_t size_;
  size_t len_;
};

std::string S(Span s) {
  return std::string(s.data, s.len);
}

std::string Bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out += static_cast<char>(x);
  return out;
}

// A 4-byte pair length (spec 3.4: top bit set, 31 bits big-endian).
std::string Len4(uint32_t n) {
  return Bytes({static_cast<int>(((n >> 24) & 0x7f) | 0x80), static_cast<int>((n >> 16) & 0xff),
                static_cast<int>((n >> 8) & 0xff), static_cast<int>(n & 0xff)});
}

// One pair with 1-byte lengths (both below 128).
std::string Pair(const std::string& k, const std::string& v) {
  return Bytes({static_cast<int>(k.size()), static_cast<int>(v.size())}) + k + v;
}

using Vars = std::vector<std::pair<std::string, std::string>>;

ErrorCode Parse(const std::string& stream, Vars* out, size_t max = 64) {
  Guarded g(stream);
  std::vector<UwsgiVar> vars(max + 1);
  size_t n = 99;
  ErrorCode err = ParseFcgiParams(g.data(), g.size(), vars.data(), max, &n);
  out->clear();
  if (err == ErrorCode::OK) {
    for (size_t i = 0; i < n; i++) out->emplace_back(S(vars[i].key), S(vars[i].value));
  } else if (n != 0) {
    std::printf("# num_vars is %zu after an error\n", n);
    tsgi_test::Failures()++;
  }
  return err;
}

ErrorCode ErrorOf(const std::string& stream, size_t max = 64) {
  Vars v;
  return Parse(stream, &v, max);
}

// The records in `bytes`, which must be whole records.
std::vector<std::pair<FcgiRecordHeader, std::string>> Records(const std::string& bytes) {
  std::vector<std::pair<FcgiRecordHeader, std::string>> out;
  size_t pos = 0;
  FcgiRecordHeader h;
  while (ParseFcgiRecordHeader(bytes.data() + pos, bytes.size() - pos, &h)) {
    if (bytes.size() - pos < FcgiRecordSize(h)) break;
    out.emplace_back(h, bytes.substr(pos + kFcgiHeaderSize, h.content_length));
    pos += FcgiRecordSize(h);
  }
  CHECK_EQ(pos, bytes.size());
  return out;
}

}  // namespace

// ---- Record header (spec 3.3) ------------------------------------------------------------------

TEST("the record header gives version, type, big-endian requestId and contentLength, and padding") {
  FcgiRecordHeader h;
  CHECK(ParseFcgiRecordHeader("\x01\x04\x12\x34\xab\xcd\x07\x00", 8, &h));
  CHECK_EQ(h.version, 1);
  CHECK_EQ(h.type, kFcgiParams);
  CHECK_EQ(h.request_id, 0x1234);
  CHECK_EQ(h.content_length, 0xabcd);
  CHECK_EQ(h.padding_length, 7);
  CHECK_EQ(FcgiRecordSize(h), 8u + 0xabcd + 7);
}

TEST("the header extremes: 65535 content bytes, 255 padding bytes, request id 65535") {
  FcgiRecordHeader h;
  CHECK(ParseFcgiRecordHeader("\x01\x05\xff\xff\xff\xff\xff\xff", 8, &h));
  CHECK_EQ(h.request_id, 65535);
  CHECK_EQ(h.content_length, 65535);
  CHECK_EQ(h.padding_length, 255);
  CHECK_EQ(FcgiRecordSize(h), 8u + 65535 + 255);
}

TEST("a header with a version other than 1 is returned as sent, for the caller to refuse") {
  FcgiRecordHeader h;
  CHECK(ParseFcgiRecordHeader("\x02\x01\x00\x01\x00\x08\x00\x00", 8, &h));
  CHECK_EQ(h.version, 2);
  CHECK(ParseFcgiRecordHeader(std::string(8, '\0').data(), 8, &h));
  CHECK_EQ(h.version, 0);
  CHECK_EQ(h.type, 0);
}

TEST("a header needs eight bytes") {
  std::string full("\x01\x01\x00\x01\x00\x08\x00\x00", 8);
  for (size_t len = 0; len < 8; len++) {
    Guarded g(full.substr(0, len));
    FcgiRecordHeader h;
    CHECK(!ParseFcgiRecordHeader(g.data(), g.size(), &h));
  }
}

// ---- BEGIN_REQUEST body (spec 5.1) -------------------------------------------------------------

TEST("a BEGIN_REQUEST body gives the big-endian role and the keep-connection flag") {
  FcgiBeginRequest b;
  Guarded g(Bytes({0, 1, 1, 0, 0, 0, 0, 0}));
  CHECK(ParseFcgiBeginRequest(g.data(), g.size(), &b) == ErrorCode::OK);
  CHECK_EQ(b.role, kFcgiRoleResponder);
  CHECK_EQ(b.flags & kFcgiKeepConn, kFcgiKeepConn);
  Guarded g2(Bytes({0x01, 0x02, 0, 9, 9, 9, 9, 9}));
  CHECK(ParseFcgiBeginRequest(g2.data(), g2.size(), &b) == ErrorCode::OK);
  CHECK_EQ(b.role, 0x0102);  // roles other than RESPONDER are the caller's to refuse
  CHECK_EQ(b.flags, 0);
}

TEST("a BEGIN_REQUEST body of any length but 8 is FCGI_BAD_BEGIN_REQUEST") {
  std::string nine = Bytes({0, 1, 0, 0, 0, 0, 0, 0, 0});
  for (size_t len : {0u, 1u, 3u, 7u, 9u}) {
    Guarded g(nine.substr(0, len));
    FcgiBeginRequest b;
    CHECK(ParseFcgiBeginRequest(g.data(), g.size(), &b) == ErrorCode::FCGI_BAD_BEGIN_REQUEST);
  }
}

// ---- Name-value pairs (spec 3.4) -----------------------------------------------------------------

TEST("pairs with 1-byte lengths parse in stream order") {
  Vars v;
  CHECK(Parse(Pair("REQUEST_METHOD", "GET") + Pair("SCRIPT_NAME", "/x"), &v) == ErrorCode::OK);
  CHECK(v == (Vars{{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/x"}}));
}

TEST("an empty stream is zero pairs, not an error") {
  UwsgiVar vars[1];
  size_t n = 7;
  CHECK(ParseFcgiParams(nullptr, 0, vars, 1, &n) == ErrorCode::OK);
  CHECK_EQ(n, 0u);
}

TEST("a 127-byte name and value use 1-byte lengths, 128-byte ones 4-byte lengths") {
  std::string n127(127, 'n'), v127(127, 'v'), n128(128, 'N'), v128(128, 'V');
  std::string stream = Bytes({127, 127}) + n127 + v127 + Len4(128) + Len4(128) + n128 + v128 + Bytes({127}) +
                       Len4(128) + n127 + v128 + Len4(128) + Bytes({127}) + n128 + v127;
  Vars v;
  CHECK(Parse(stream, &v) == ErrorCode::OK);
  CHECK(v == (Vars{{n127, v127}, {n128, v128}, {n127, v128}, {n128, v127}}));
  // The encoder picks the same forms.
  std::string enc;
  AppendFcgiNameValue(&enc, Span{n127.data(), 127}, Span{v127.data(), 127});
  AppendFcgiNameValue(&enc, Span{n128.data(), 128}, Span{v128.data(), 128});
  AppendFcgiNameValue(&enc, Span{n127.data(), 127}, Span{v128.data(), 128});
  AppendFcgiNameValue(&enc, Span{n128.data(), 128}, Span{v127.data(), 127});
  CHECK(enc == stream);
}

TEST("a 4-byte length may carry a small value; the spec does not forbid it") {
  Vars v;
  CHECK(Parse(Len4(1) + Len4(0) + "A", &v) == ErrorCode::OK);
  CHECK(v == (Vars{{"A", ""}}));
}

TEST("empty values are accepted anywhere, including last") {
  Vars v;
  CHECK(Parse(Pair("A", "") + Pair("B", "x") + Pair("C", ""), &v) == ErrorCode::OK);
  CHECK(v == (Vars{{"A", ""}, {"B", "x"}, {"C", ""}}));
}

TEST("repeated names are all returned in stream order") {
  Vars v;
  CHECK(Parse(Pair("X", "1") + Pair("Y", "") + Pair("X", "2"), &v) == ErrorCode::OK);
  CHECK(v == (Vars{{"X", "1"}, {"Y", ""}, {"X", "2"}}));
}

TEST("an empty name is FCGI_EMPTY_NAME, in 1-byte or 4-byte form") {
  CHECK(ErrorOf(Bytes({0, 1}) + "v") == ErrorCode::FCGI_EMPTY_NAME);
  CHECK(ErrorOf(Pair("A", "1") + Bytes({0, 0})) == ErrorCode::FCGI_EMPTY_NAME);
  CHECK(ErrorOf(Len4(0) + Bytes({0})) == ErrorCode::FCGI_EMPTY_NAME);
}

TEST("a stream ending inside a length is FCGI_TRUNCATED_PARAM") {
  CHECK(ErrorOf(Bytes({1})) == ErrorCode::FCGI_TRUNCATED_PARAM);  // no value length
  CHECK(ErrorOf(Pair("A", "1") + Bytes({1})) == ErrorCode::FCGI_TRUNCATED_PARAM);
  std::string len4 = Len4(200);
  for (size_t cut = 1; cut < 4; cut++) {
    CHECK(ErrorOf(len4.substr(0, cut)) == ErrorCode::FCGI_TRUNCATED_PARAM);
    CHECK(ErrorOf(Bytes({1}) + len4.substr(0, cut)) == ErrorCode::FCGI_TRUNCATED_PARAM);
  }
  CHECK(ErrorOf(Bytes({0})) == ErrorCode::FCGI_TRUNCATED_PARAM);  // the value length is missing
}

TEST("a name or value overrunning the stream is FCGI_TRUNCATED_PARAM") {
  CHECK(ErrorOf(Bytes({5, 0}) + "abc") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Bytes({1, 5}) + "a1234") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Pair("A", "1") + Bytes({1, 1}) + "b") == ErrorCode::FCGI_TRUNCATED_PARAM);
  // A 4-byte length that overruns by one byte.
  CHECK(ErrorOf(Len4(200) + Bytes({0}) + std::string(199, 'k')) == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Bytes({1}) + Len4(200) + "k" + std::string(199, 'v')) == ErrorCode::FCGI_TRUNCATED_PARAM);
  Vars v;
  CHECK(Parse(Bytes({1}) + Len4(200) + "k" + std::string(200, 'v'), &v) == ErrorCode::OK);
}

TEST("lengths near 2^31 are FCGI_TRUNCATED_PARAM, without overflowing the offset") {
  // 0x7fffffff is the largest 31-bit length (spec 3.4); two of them sum to nearly 2^32, which
  // would wrap a 32-bit offset and pass a naive pos + name + value <= len check.
  CHECK(ErrorOf(Len4(0x7fffffff) + Len4(0x7fffffff) + "abcdef") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Len4(0x7fffffff) + Bytes({0}) + "abc") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Bytes({1}) + Len4(0x7fffffff) + "abc") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Len4(0x80000000u - 2) + Len4(3) + "abc") == ErrorCode::FCGI_TRUNCATED_PARAM);
  CHECK(ErrorOf(Bytes({1}) + Len4(0x7ffffff0) + "a" + std::string(32, 'v')) ==
        ErrorCode::FCGI_TRUNCATED_PARAM);
}

TEST("more pairs than max_vars is FCGI_TOO_MANY_PARAMS; exactly max_vars is fine") {
  std::string stream = Pair("a", "1") + Pair("b", "2") + Pair("c", "3");
  CHECK(ErrorOf(stream, 2) == ErrorCode::FCGI_TOO_MANY_PARAMS);
  CHECK(ErrorOf(stream, 3) == ErrorCode::OK);
  CHECK(ErrorOf(stream, 0) == ErrorCode::FCGI_TOO_MANY_PARAMS);
}

TEST("a malformed pair after max_vars pairs is still reported as malformed") {
  // The stream is read in order: the overrunning pair is found before the count matters.
  CHECK(ErrorOf(Pair("a", "1") + Bytes({1, 9}) + "b", 1) == ErrorCode::FCGI_TRUNCATED_PARAM);
}

// ---- Encoders (spec 3.3, 5.5, 4.1, 4.2) ---------------------------------------------------------

TEST("AppendFcgiHeader writes version 1, big-endian id and length, padding and a zero reserved byte") {
  std::string out = "x";
  AppendFcgiHeader(&out, kFcgiStdout, 0x0102, 0x0304, 5);
  CHECK(out == Bytes({'x', 1, 6, 1, 2, 3, 4, 5, 0}));
  FcgiRecordHeader h;
  CHECK(ParseFcgiRecordHeader(out.data() + 1, 8, &h));
  CHECK_EQ(h.request_id, 0x0102);
  CHECK_EQ(h.content_length, 0x0304);
  CHECK_EQ(h.padding_length, 5);
}

TEST("a 200 KiB stream becomes four records of at most 65535 bytes that join back to the data") {
  std::string data(200 * 1024, '\0');
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i * 131 + (i >> 9));
  std::string out;
  AppendFcgiStream(&out, kFcgiStdout, 7, data.data(), data.size());
  auto recs = Records(out);
  CHECK_EQ(recs.size(), 4u);
  std::string joined;
  size_t sizes[4] = {65535, 65535, 65535, 200 * 1024 - 3 * 65535};
  for (size_t i = 0; i < recs.size() && i < 4; i++) {
    CHECK_EQ(recs[i].first.version, kFcgiVersion);
    CHECK_EQ(recs[i].first.type, kFcgiStdout);
    CHECK_EQ(recs[i].first.request_id, 7);
    CHECK_EQ(recs[i].first.content_length, sizes[i]);
    CHECK_EQ(recs[i].first.padding_length, 0);
    joined += recs[i].second;
  }
  CHECK(joined == data);
  CHECK_EQ(out.size(), data.size() + 4 * kFcgiHeaderSize);
}

TEST("a stream of exactly 65535 bytes is one record, and an empty one writes nothing") {
  std::string data(65535, 'z');
  std::string out;
  AppendFcgiStream(&out, kFcgiStderr, 1, data.data(), data.size());
  CHECK_EQ(Records(out).size(), 1u);
  std::string none;
  AppendFcgiStream(&none, kFcgiStdout, 1, data.data(), 0);
  CHECK(none.empty());
  AppendFcgiStream(&none, kFcgiStdout, 1, data.data(), 65536);
  auto recs = Records(none);
  CHECK(recs.size() == 2 && recs[1].first.content_length == 1);
}

TEST("END_REQUEST is the exact 16 bytes of spec 5.5: big-endian appStatus, protocolStatus, 3 reserved") {
  std::string out;
  AppendFcgiEndRequest(&out, 0x0102, 0xa1b2c3d4, kFcgiOverloaded);
  CHECK(out == Bytes({1, 3, 1, 2, 0, 8, 0, 0, 0xa1, 0xb2, 0xc3, 0xd4, 2, 0, 0, 0}));
  out.clear();
  AppendFcgiEndRequest(&out, 1, 0, kFcgiRequestComplete);
  CHECK(out == Bytes({1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST("UNKNOWN_TYPE is a management record (id 0) naming the type, then 7 reserved bytes (spec 4.2)") {
  std::string out;
  AppendFcgiUnknownType(&out, 0xc8);
  CHECK(out == Bytes({1, 11, 0, 0, 0, 8, 0, 0, 0xc8, 0, 0, 0, 0, 0, 0, 0}));
}

TEST("name-value pairs round-trip through the parser at every length boundary") {
  std::string stream;
  Vars want;
  for (size_t nl : {1u, 126u, 127u, 128u, 129u, 70000u}) {
    for (size_t vl : {0u, 1u, 127u, 128u, 65536u}) {
      std::string k(nl, static_cast<char>('a' + nl % 26)), val(vl, '\x80');
      AppendFcgiNameValue(&stream, Span{k.data(), k.size()}, Span{val.data(), val.size()});
      want.emplace_back(k, val);
    }
  }
  Vars got;
  CHECK(Parse(stream, &got, 64) == ErrorCode::OK);
  CHECK(got == want);
}

TEST("GET_VALUES_RESULT answers FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS and leaves out the rest") {
  // A GET_VALUES record content as a web server sends it: names with empty values (spec 4.1).
  std::string asked = Pair("FCGI_MAX_CONNS", "") + Pair("FCGI_UNKNOWN", "") + Pair("FCGI_MAX_REQS", "") +
                      Pair("FCGI_MPXS_CONNS", "");
  std::vector<UwsgiVar> vars(8);
  size_t n = 0;
  CHECK(ParseFcgiParams(asked.data(), asked.size(), vars.data(), vars.size(), &n) == ErrorCode::OK);
  CHECK_EQ(n, 4u);
  FcgiLimits limits;
  limits.max_conns = 1024;
  limits.max_reqs = 4294967295u;
  limits.mpxs_conns = false;
  std::string out;
  AppendFcgiGetValuesResult(&out, vars.data(), n, limits);
  auto recs = Records(out);
  CHECK_EQ(recs.size(), 1u);
  if (recs.size() != 1) return;
  CHECK_EQ(recs[0].first.type, kFcgiGetValuesResult);
  CHECK_EQ(recs[0].first.request_id, 0);  // a management record
  Vars got;
  CHECK(Parse(recs[0].second, &got) == ErrorCode::OK);
  CHECK(got == (Vars{{"FCGI_MAX_CONNS", "1024"}, {"FCGI_MAX_REQS", "4294967295"}, {"FCGI_MPXS_CONNS", "0"}}));
  limits.mpxs_conns = true;
  out.clear();
  AppendFcgiGetValuesResult(&out, vars.data() + 3, 1, limits);
  CHECK(out == Bytes({1, 10, 0, 0, 0, 18, 0, 0, 15, 1}) + "FCGI_MPXS_CONNS1");
}

TEST("GET_VALUES_RESULT for only unknown names, or none, is an empty record") {
  std::string asked = Pair("FCGI_MAX_CONNSX", "") + Pair("fcgi_max_conns", "");
  std::vector<UwsgiVar> vars(4);
  size_t n = 0;
  CHECK(ParseFcgiParams(asked.data(), asked.size(), vars.data(), vars.size(), &n) == ErrorCode::OK);
  std::string out;
  AppendFcgiGetValuesResult(&out, vars.data(), n, FcgiLimits{});
  CHECK(out == Bytes({1, 10, 0, 0, 0, 0, 0, 0}));
  out.clear();
  AppendFcgiGetValuesResult(&out, nullptr, 0, FcgiLimits{});
  CHECK(out == Bytes({1, 10, 0, 0, 0, 0, 0, 0}));
}

TEST("GET_VALUES_RESULT stays within one record however often a name is asked") {
  std::string one = Pair("FCGI_MAX_CONNS", "");
  std::vector<UwsgiVar> vars(5000);
  std::string asked;
  for (int i = 0; i < 5000; i++) asked += one;
  size_t n = 0;
  CHECK(ParseFcgiParams(asked.data(), asked.size(), vars.data(), vars.size(), &n) == ErrorCode::OK);
  FcgiLimits limits;
  limits.max_conns = 4000000000u;
  std::string out;
  AppendFcgiGetValuesResult(&out, vars.data(), n, limits);
  auto recs = Records(out);
  CHECK_EQ(recs.size(), 1u);
  CHECK(out.size() - kFcgiHeaderSize <= kFcgiMaxContent);
  Vars got;
  CHECK(Parse(recs[0].second, &got, 10000) == ErrorCode::OK);
  CHECK(got.size() > 2000);
  for (auto& kv : got) CHECK(kv.second == "4000000000");
}

// ---- Fixture replay -------------------------------------------------------------------------
// test/fixtures/fastcgi/*.md: the hex syntax of test/fixtures/uwsgi/README.md, with the
// FastCGI expectations of test/fixtures/fastcgi/README.md.

namespace {

using tsgi_test::Fixture;
using tsgi_test::ParseHex;
using tsgi_test::Unescape;

std::vector<Fixture> ReadFixtures() {
  return tsgi_test::ReadFixtures("test/fixtures/fastcgi/");
}

const char* TypeName(uint8_t t) {
  static const char* names[] = {
      "TYPE0",  "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST",       "PARAMS",      "STDIN", "STDOUT",
      "STDERR", "DATA",          "GET_VALUES",    "GET_VALUES_RESULT", "UNKNOWN_TYPE"};
  return t < 12 ? names[t] : "TYPE_OTHER";
}

std::string VarsText(const char* block, size_t len, size_t max_vars) {
  std::vector<UwsgiVar> vars(max_vars + 1);
  size_t n = 0;
  ErrorCode err = ParseFcgiParams(block, len, vars.data(), max_vars, &n);
  if (err != ErrorCode::OK) return std::string("error=") + ErrorName(err) + "\n";
  std::string out = "vars:\n";
  for (size_t i = 0; i < n; i++) out += S(vars[i].key) + "=" + S(vars[i].value) + "\n";
  return out;
}

// A params case: the hex is one params stream.
std::string JudgeParams(const Fixture& fx, const std::string& bytes) {
  Guarded g(bytes);
  return VarsText(g.data(), g.size(), fx.max_vars);
}

// A records case: the hex is what a web server wrote on one connection.
std::string JudgeRecords(const Fixture& fx, const std::string& bytes) {
  Guarded g(bytes);
  std::string out = "records:\n", params;
  size_t pos = 0, stdin_bytes = 0;
  FcgiRecordHeader h;
  while (pos < g.size()) {
    if (!ParseFcgiRecordHeader(g.data() + pos, g.size() - pos, &h) || g.size() - pos < FcgiRecordSize(h)) {
      return out + "incomplete\n";
    }
    if (h.version != kFcgiVersion)
      return std::string("error=") + ErrorName(ErrorCode::FCGI_BAD_VERSION) + "\n";
    const char* content = g.data() + pos + kFcgiHeaderSize;
    out += std::string(TypeName(h.type)) + " id=" + std::to_string(h.request_id) +
           " content=" + std::to_string(h.content_length) + " padding=" + std::to_string(h.padding_length);
    if (h.type == kFcgiBeginRequest) {
      FcgiBeginRequest b;
      ErrorCode err = ParseFcgiBeginRequest(content, h.content_length, &b);
      if (err != ErrorCode::OK) return std::string("error=") + ErrorName(err) + "\n";
      out += " role=" + std::to_string(b.role) + " flags=" + std::to_string(b.flags);
    }
    out += "\n";
    if (h.type == kFcgiParams) params.append(content, h.content_length);
    if (h.type == kFcgiStdin) stdin_bytes += h.content_length;
    pos += FcgiRecordSize(h);
  }
  Guarded p(params);
  return out + VarsText(p.data(), p.size(), fx.max_vars) + "stdin=" + std::to_string(stdin_bytes) + "\n";
}

bool IsRecordsCase(const Fixture& fx) {
  return fx.expect.rfind("records:", 0) == 0;
}

std::string Normalise(const std::string& expect) {
  std::string out;
  std::istringstream lines(expect);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out += Unescape(line) + "\n";
  }
  return out;
}

}  // namespace

TEST("every fastcgi fixture file gives the expected result when replayed in C++") {
  std::vector<Fixture> all = ReadFixtures();
  CHECK(all.size() >= 30);
  size_t records_cases = 0;
  for (const Fixture& fx : all) {
    std::string bytes = ParseHex(fx.hex);
    bool records = IsRecordsCase(fx);
    records_cases += records;
    std::string got = records ? JudgeRecords(fx, bytes) : JudgeParams(fx, bytes);
    std::string want = Normalise(fx.expect);
    if (got != want) {
      std::istringstream w(want), g(got);
      std::string wl, gl;
      while (std::getline(w, wl) && std::getline(g, gl) && wl == gl) {
      }
      std::printf("# fixture: %s\n#   want: %.120s\n#   got:  %.120s\n", fx.name.c_str(), wl.c_str(),
                  gl.c_str());
      tsgi_test::Failures()++;
    }
  }
  CHECK(records_cases >= 5);
}

TEST("every prefix of an accepted params fixture is its leading pairs or FCGI_TRUNCATED_PARAM") {
  // A stream cut at a pair boundary is a shorter valid stream; cut anywhere else, the last
  // pair overruns it. Either way, no other error and no pair that is not in the whole.
  for (const Fixture& fx : ReadFixtures()) {
    if (IsRecordsCase(fx)) continue;
    std::string bytes = ParseHex(fx.hex);
    std::string whole = JudgeParams(fx, bytes);
    if (whole.rfind("vars:", 0) != 0) continue;
    for (size_t len = 0; len < bytes.size(); len++) {
      std::string got = JudgeParams(fx, bytes.substr(0, len));
      bool ok =
          got == "error=FCGI_TRUNCATED_PARAM\n" || (got.rfind("vars:", 0) == 0 && whole.rfind(got, 0) == 0);
      if (!ok) {
        std::printf("# fixture: %s\n#   prefix %zu gave %.120s\n", fx.name.c_str(), len, got.c_str());
        tsgi_test::Failures()++;
        break;
      }
    }
  }
}

TEST("every accepted params fixture re-encodes into pairs that parse back the same") {
  // AppendFcgiNameValue writes the shortest length form; a fixture using a 4-byte length for
  // a short value encodes shorter, otherwise the bytes must be the fixture's own.
  for (const Fixture& fx : ReadFixtures()) {
    if (IsRecordsCase(fx)) continue;
    std::string bytes = ParseHex(fx.hex);
    std::vector<UwsgiVar> vars(fx.max_vars + 1);
    size_t n = 0;
    if (ParseFcgiParams(bytes.data(), bytes.size(), vars.data(), fx.max_vars, &n) != ErrorCode::OK) continue;
    std::string out;
    for (size_t i = 0; i < n; i++) AppendFcgiNameValue(&out, vars[i].key, vars[i].value);
    bool same =
        JudgeParams(fx, out) == JudgeParams(fx, bytes) && (out.size() < bytes.size() ? true : out == bytes);
    if (!same) {
      std::printf("# round trip differs: %s\n", fx.name.c_str());
      tsgi_test::Failures()++;
    }
  }
}

TEST_MAIN()
