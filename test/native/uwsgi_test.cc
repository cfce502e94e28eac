// Unit tests of native/src/proto/uwsgi.{h,cc}. Besides the cases below, the last tests replay
// every packet fixture in test/fixtures/uwsgi/*.md through the C++ functions directly, so the
// native layer and the addon's _parseUwsgi (test/conformance/uwsgi-fixtures.test.ts) are held
// to the same expectations. Inputs are copied to the end of a page followed by a PROT_NONE page
// (picohttpparser's trick), so any read past the span faults even without ASan.
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
#include "proto/uwsgi.h"

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

std::string Var(const std::string& k, const std::string& v) {
  std::string out;
  out += static_cast<char>(k.size() & 0xff);
  out += static_cast<char>(k.size() >> 8);
  out += k;
  out += static_cast<char>(v.size() & 0xff);
  out += static_cast<char>(v.size() >> 8);
  out += v;
  return out;
}

ErrorCode ParseBlock(const std::string& block, std::vector<UwsgiVar>* vars, size_t max = 64) {
  Guarded g(block);
  vars->assign(max, UwsgiVar{});
  size_t n = 99;
  ErrorCode err = ParseUwsgiVars(g.data(), g.size(), vars->data(), max, &n);
  vars->resize(err == ErrorCode::OK ? n : 0);
  // The spans point into the guarded copy, which is unmapped on return: callers look only at
  // the error and at lengths.
  return err;
}

std::string S(Span s) {
  return std::string(s.data, s.len);
}

}  // namespace

TEST("the header is modifier1, a little-endian datasize and modifier2") {
  UwsgiHeader h;
  CHECK(ParseUwsgiHeader("\x05\x01\x02\x09", 4, &h));
  CHECK_EQ(h.modifier1, 5);
  CHECK_EQ(h.datasize, 0x0201);
  CHECK_EQ(h.modifier2, 9);
  CHECK(ParseUwsgiHeader("\xff\xff\xff\xff", 4, &h));
  CHECK_EQ(h.modifier1, 255);
  CHECK_EQ(h.datasize, 65535);
}

TEST("a header needs four bytes") {
  UwsgiHeader h;
  CHECK(!ParseUwsgiHeader("\x00\x01\x02", 3, &h));
  CHECK(!ParseUwsgiHeader("", 0, &h));
}

TEST("the worked example parses into REQUEST_METHOD and PATH_INFO") {
  std::string block = Var("REQUEST_METHOD", "GET") + Var("PATH_INFO", "/");
  CHECK_EQ(block.size(), 35u);
  Guarded g(block);
  UwsgiVar vars[4];
  size_t n = 0;
  CHECK(ParseUwsgiVars(g.data(), g.size(), vars, 4, &n) == ErrorCode::OK);
  CHECK_EQ(n, 2u);
  CHECK_SPAN(vars[0].key, "REQUEST_METHOD");
  CHECK_SPAN(vars[0].value, "GET");
  CHECK_SPAN(vars[1].key, "PATH_INFO");
  CHECK_SPAN(vars[1].value, "/");
}

TEST("an empty block is zero vars, not an error (the caller decides)") {
  UwsgiVar vars[1];
  size_t n = 7;
  CHECK(ParseUwsgiVars(nullptr, 0, vars, 1, &n) == ErrorCode::OK);
  CHECK_EQ(n, 0u);
}

TEST("empty values are accepted anywhere, including last") {
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(Var("A", "") + Var("B", "x") + Var("C", ""), &v) == ErrorCode::OK);
  CHECK_EQ(v.size(), 3u);
  CHECK_EQ(v[0].value.len, 0u);
  CHECK_EQ(v[2].value.len, 0u);
}

TEST("duplicate keys are all returned in packet order") {
  Guarded g(Var("X", "1") + Var("Y", "") + Var("X", "2"));
  UwsgiVar vars[4];
  size_t n = 0;
  CHECK(ParseUwsgiVars(g.data(), g.size(), vars, 4, &n) == ErrorCode::OK);
  CHECK_EQ(n, 3u);
  CHECK_SPAN(vars[0].value, "1");
  CHECK_SPAN(vars[2].key, "X");
  CHECK_SPAN(vars[2].value, "2");
}

TEST("a zero-length key is UWSGI_EMPTY_KEY") {
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(std::string("\x00\x00\x01\x00"
                               "a",
                               5),
                   &v) == ErrorCode::UWSGI_EMPTY_KEY);
  CHECK(ParseBlock(Var("a", "1") + std::string("\x00\x00\x00", 3), &v) == ErrorCode::UWSGI_EMPTY_KEY);
}

TEST("keys and values overrunning the block are UWSGI_TRUNCATED_VAR") {
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(std::string("\x05\x00"
                               "abc",
                               5),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(std::string("\x01\x00"
                               "a\x05\x00"
                               "1234",
                               9),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(std::string("\xff\xff"
                               "a",
                               3),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(std::string("\x01\x00"
                               "a\xff\xff",
                               5),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
}

TEST("a key without a complete value length is UWSGI_TRUNCATED_VAR") {
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(Var("a", "1") + std::string("\x01\x00"
                                               "b",
                                               3),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(std::string("\x01\x00"
                               "b\x00",
                               4),
                   &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
}

TEST("one or two trailing bytes are UWSGI_TRUNCATED_VAR, even two zero bytes") {
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(Var("a", "1") + std::string("\x00", 1), &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(Var("a", "1") + std::string("\x00\x00", 2), &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
  CHECK(ParseBlock(std::string("\x07", 1), &v) == ErrorCode::UWSGI_TRUNCATED_VAR);
}

TEST("more vars than max_vars is UWSGI_TOO_MANY_VARS; exactly max_vars is fine") {
  std::string block = Var("a", "1") + Var("b", "2") + Var("c", "3");
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(block, &v, 2) == ErrorCode::UWSGI_TOO_MANY_VARS);
  CHECK(ParseBlock(block, &v, 3) == ErrorCode::OK);
  CHECK(ParseBlock(block, &v, 0) == ErrorCode::UWSGI_TOO_MANY_VARS);
}

TEST("a malformed var is reported even after max_vars would be reached") {
  // The parser stops at the first problem in packet order: here the truncation comes first.
  std::vector<UwsgiVar> v;
  CHECK(ParseBlock(Var("a", "1") + std::string("\x09\x00"
                                               "b",
                                               3),
                   &v, 1) == ErrorCode::UWSGI_TRUNCATED_VAR);
}

TEST("a 65535-byte block with one long value parses") {
  std::string block = Var("K", std::string(65530, 'x'));
  CHECK_EQ(block.size(), 65535u);
  Guarded g(block);
  UwsgiVar vars[1];
  size_t n = 0;
  CHECK(ParseUwsgiVars(g.data(), g.size(), vars, 1, &n) == ErrorCode::OK);
  CHECK_EQ(n, 1u);
  CHECK_EQ(vars[0].value.len, 65530u);
}

TEST("strict CONTENT_LENGTH accepts empty and 1-19 digits") {
  uint64_t v = 1;
  CHECK(ParseUwsgiContentLength(Span{"", 0}, &v) && v == 0);
  CHECK(ParseUwsgiContentLength(Span{"0", 1}, &v) && v == 0);
  CHECK(ParseUwsgiContentLength(Span{"11", 2}, &v) && v == 11);
  CHECK(ParseUwsgiContentLength(Span{"007", 3}, &v) && v == 7);
  CHECK(ParseUwsgiContentLength(Span{"9999999999999999999", 19}, &v) && v == 9999999999999999999ull);
}

TEST("CONTENT_LENGTH with leading zeros is its value, up to 2^64 - 1") {
  uint64_t v = 0;
  CHECK(ParseUwsgiContentLength(Span{"00000000000000000005", 20}, &v) && v == 5);
  CHECK(ParseUwsgiContentLength(Span{"18446744073709551615", 20}, &v) && v == 18446744073709551615ull);
  std::string zeros = std::string(100, '0') + "7";
  CHECK(ParseUwsgiContentLength(Span{zeros.data(), zeros.size()}, &v) && v == 7);
}

TEST("strict CONTENT_LENGTH refuses signs, spaces, letters, lists and values over 64 bits") {
  const char* bad[] = {"-1",
                       "+1",
                       " 5",
                       "5 ",
                       "12abc",
                       "abc",
                       "5, 10",
                       "0x10",
                       "1.0",
                       "18446744073709551616",
                       "000018446744073709551616",
                       "99999999999999999999"};
  for (const char* s : bad) {
    uint64_t v = 42;
    CHECK(!ParseUwsgiContentLength(Span{s, std::strlen(s)}, &v));
  }
}

TEST("encoding the worked example gives the bytes of the reference") {
  UwsgiVar vars[2] = {{{"REQUEST_METHOD", 14}, {"GET", 3}}, {{"PATH_INFO", 9}, {"/", 1}}};
  char out[64];
  size_t n = EncodeUwsgiPacket(0, 0, vars, 2, out, sizeof out);
  CHECK_EQ(n, 39u);
  std::string want =
      std::string("\x00\x23\x00\x00", 4) + Var("REQUEST_METHOD", "GET") + Var("PATH_INFO", "/");
  CHECK(std::string(out, n) == want);
}

TEST("the encoder reports the size first and writes nothing into a short buffer") {
  UwsgiVar vars[1] = {{{"a", 1}, {"1", 1}}};
  CHECK_EQ(EncodeUwsgiPacket(0, 0, vars, 1, nullptr, 0), 10u);
  char out[9];
  std::memset(out, '#', sizeof out);
  CHECK_EQ(EncodeUwsgiPacket(0, 0, vars, 1, out, sizeof out), 10u);
  CHECK(std::string(out, 9) == std::string(9, '#'));
}

TEST("a ping reply encodes as 64 00 00 01") {
  char out[4];
  CHECK_EQ(EncodeUwsgiPacket(kUwsgiModifierPing, 1, nullptr, 0, out, 4), 4u);
  CHECK(std::string(out, 4) == std::string("\x64\x00\x00\x01", 4));
}

TEST("the encoder refuses blocks over 65535 bytes and empty keys, and accepts exactly 65535") {
  std::string big(65530, 'x');
  UwsgiVar fits[1] = {{{"K", 1}, {big.data(), big.size()}}};
  CHECK_EQ(EncodeUwsgiPacket(0, 0, fits, 1, nullptr, 0), 65539u);
  UwsgiVar over[1] = {{{"KK", 2}, {big.data(), big.size()}}};
  CHECK_EQ(EncodeUwsgiPacket(0, 0, over, 1, nullptr, 0), 0u);
  std::string huge(70000, 'y');
  UwsgiVar value_too_long[1] = {{{"K", 1}, {huge.data(), huge.size()}}};
  CHECK_EQ(EncodeUwsgiPacket(0, 0, value_too_long, 1, nullptr, 0), 0u);
  UwsgiVar empty_key[1] = {{{"", 0}, {"v", 1}}};
  CHECK_EQ(EncodeUwsgiPacket(0, 0, empty_key, 1, nullptr, 0), 0u);
}

// ---- Fixture replay -------------------------------------------------------------------------
// The same reading of test/fixtures/uwsgi/*.md as the TypeScript runner (format in README.md
// there), and the same request-level rules as _parseUwsgi in native/src/binding.

namespace {

using tsgi_test::Fixture;
using tsgi_test::ParseHex;
using tsgi_test::Unescape;

std::vector<Fixture> ReadFixtures() {
  return tsgi_test::ReadFixtures("test/fixtures/uwsgi/");
}

// What _parseUwsgi reports, rendered in the expect-block syntax.
std::string Judge(const Fixture& fx, const std::string& bytes) {
  Guarded g(bytes);
  UwsgiHeader h;
  if (!ParseUwsgiHeader(g.data(), g.size(), &h)) return "incomplete\n";
  auto error = [](ErrorCode c) { return std::string("error=") + ErrorName(c) + "\n"; };
  if (h.datasize > fx.buffer_size) return error(ErrorCode::UWSGI_BLOCK_TOO_LARGE);
  if (h.modifier1 > 99 && h.modifier1 != kUwsgiModifierPing) return error(ErrorCode::UWSGI_BAD_MODIFIER);
  if (g.size() < kUwsgiHeaderSize + h.datasize) return "incomplete\n";
  if (h.datasize == 0 && h.modifier1 != kUwsgiModifierPing) return error(ErrorCode::UWSGI_EMPTY_BLOCK);
  std::vector<UwsgiVar> vars(fx.max_vars);
  size_t n = 0;
  ErrorCode err = ParseUwsgiVars(g.data() + 4, h.datasize, vars.data(), fx.max_vars, &n);
  if (err != ErrorCode::OK) return error(err);
  std::string out = "vars:\n";
  bool has_cl = false;
  uint64_t cl = 0;
  for (size_t i = 0; i < n; i++) {
    out += S(vars[i].key) + "=" + S(vars[i].value) + "\n";
    if (!vars[i].key.equals("CONTENT_LENGTH", 14)) continue;
    uint64_t v;
    if (!ParseUwsgiContentLength(vars[i].value, &v) || (has_cl && v != cl)) {
      return error(ErrorCode::UWSGI_BAD_CONTENT_LENGTH);
    }
    has_cl = true;
    cl = v;
  }
  out += "modifier1=" + std::to_string(h.modifier1) + " modifier2=" + std::to_string(h.modifier2) +
         " body=" + std::to_string(g.size() - 4 - h.datasize);
  if (has_cl) out += " content_length=" + std::to_string(cl);
  return out + "\n";
}

// The expect block with escapes resolved; content_length kept only when the fixture gives it.
std::string Normalise(const std::string& expect, std::string* judged) {
  std::string out;
  std::istringstream lines(expect);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out += Unescape(line) + "\n";
  }
  if (out.find(" content_length=") == std::string::npos) {
    size_t at = judged->find(" content_length=");
    if (at != std::string::npos) judged->erase(at, judged->find('\n', at) - at);
  }
  return out;
}

}  // namespace

TEST("every uwsgi fixture file gives the expected result when replayed in C++") {
  std::vector<Fixture> all = ReadFixtures();
  CHECK(all.size() >= 40);
  for (const Fixture& fx : all) {
    std::string bytes = ParseHex(fx.hex);
    std::string got = Judge(fx, bytes);
    std::string want = Normalise(fx.expect, &got);
    if (got != want) {
      // Show the first line that differs, cut short: values can be 64 KiB long.
      std::istringstream w(want), g(got);
      std::string wl, gl;
      while (std::getline(w, wl) && std::getline(g, gl) && wl == gl) {
      }
      std::printf("# fixture: %s\n#   want: %.120s\n#   got:  %.120s\n", fx.name.c_str(), wl.c_str(),
                  gl.c_str());
      tsgi_test::Failures()++;
    }
  }
}

TEST("every accepted uwsgi fixture re-encodes to its own header and vars bytes") {
  for (const Fixture& fx : ReadFixtures()) {
    std::string bytes = ParseHex(fx.hex);
    UwsgiHeader h;
    if (!ParseUwsgiHeader(bytes.data(), bytes.size(), &h) || bytes.size() < 4u + h.datasize) continue;
    std::vector<UwsgiVar> vars(70000);
    size_t n = 0;
    if (ParseUwsgiVars(bytes.data() + 4, h.datasize, vars.data(), vars.size(), &n) != ErrorCode::OK) continue;
    std::string out(4 + h.datasize, '\0');
    size_t wrote = EncodeUwsgiPacket(h.modifier1, h.modifier2, vars.data(), n, &out[0], out.size());
    if (wrote != out.size() || out != bytes.substr(0, out.size())) {
      std::printf("# round trip differs: %s\n", fx.name.c_str());
      tsgi_test::Failures()++;
    }
  }
}

TEST_MAIN()
