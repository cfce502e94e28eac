// Unit tests of native/src/proto/scgi.{h,cc} against the SCGI specification (Neil
// Schemenauer, 2006, http://python.ca/scgi/protocol.txt) and the netstring rules it builds on
// (D. J. Bernstein, "Netstrings", 1997). The last tests replay every request fixture in
// test/fixtures/scgi/*.md (format in README.md there). Inputs are copied to the end of a page
// followed by a PROT_NONE page, so any read past the input faults even without ASan.
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
#include "proto/scgi.h"

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

// The specification's own example: a POST of 27 bytes to /deepthought.
const std::string kSpecBlock = std::string(
    "CONTENT_LENGTH\0"
    "27\0"
    "SCGI\0"
    "1\0"
    "REQUEST_METHOD\0"
    "POST\0"
    "REQUEST_URI\0"
    "/deepthought\0",
    70);
const std::string kSpecBody = "What is the answer to life?";
const std::string kSpecRequest = "70:" + kSpecBlock + "," + kSpecBody;

// "<len>:<block>," for a block given as name/value pairs.
std::string Netstring(const std::string& block) {
  return std::to_string(block.size()) + ":" + block + ",";
}

std::string Pair(const std::string& k, const std::string& v) {
  return k + std::string(1, '\0') + v + std::string(1, '\0');
}

// A well-formed block with `extra` pairs after CONTENT_LENGTH=0 and SCGI=1.
std::string Block(const std::string& extra = "") {
  return Pair("CONTENT_LENGTH", "0") + Pair("SCGI", "1") + extra;
}

struct Result {
  int64_t size = 0;
  ErrorCode err = ErrorCode::OK;
  ScgiRequestHead head;
  std::vector<std::pair<std::string, std::string>> vars;
};

Result Parse(const std::string& bytes, size_t max_block = 8192, size_t max_vars = 64) {
  Guarded g(bytes);
  std::vector<UwsgiVar> vars(max_vars + 1);
  Result r;
  r.size = ParseScgiRequest(g.data(), g.size(), max_block, vars.data(), max_vars, &r.head, &r.err);
  if (r.size > 0) {
    for (size_t i = 0; i < r.head.num_vars; i++) r.vars.emplace_back(S(vars[i].key), S(vars[i].value));
  }
  r.head.block = nullptr;  // points into the guarded copy, gone on return
  return r;
}

ErrorCode ErrorOf(const std::string& bytes, size_t max_block = 8192, size_t max_vars = 64) {
  Result r = Parse(bytes, max_block, max_vars);
  return r.size == -1 ? r.err : ErrorCode::OK;
}

}  // namespace

TEST("the specification's example request parses into its four headers and a 27-byte body") {
  CHECK_EQ(kSpecBlock.size(), 70u);
  CHECK_EQ(kSpecBody.size(), 27u);
  Guarded g(kSpecRequest);
  UwsgiVar vars[8];
  ScgiRequestHead head;
  ErrorCode err = ErrorCode::OK;
  int64_t n = ParseScgiRequest(g.data(), g.size(), 8192, vars, 8, &head, &err);
  // "70:" + 70 bytes + ",": the body is not part of the netstring.
  CHECK_EQ(n, 74);
  CHECK_EQ(head.num_vars, 4u);
  CHECK_EQ(head.content_length, 27u);
  CHECK_EQ(head.block_len, 70u);
  CHECK(head.block == g.data() + 3);
  CHECK_SPAN(vars[0].key, "CONTENT_LENGTH");
  CHECK_SPAN(vars[0].value, "27");
  CHECK_SPAN(vars[1].key, "SCGI");
  CHECK_SPAN(vars[1].value, "1");
  CHECK_SPAN(vars[2].key, "REQUEST_METHOD");
  CHECK_SPAN(vars[2].value, "POST");
  CHECK_SPAN(vars[3].key, "REQUEST_URI");
  CHECK_SPAN(vars[3].value, "/deepthought");
  CHECK(std::string(g.data() + n, g.size() - static_cast<size_t>(n)) == kSpecBody);
}

TEST("the example is incomplete at every prefix length short of its closing comma") {
  for (size_t len = 0; len < 74; len++) {
    Result r = Parse(kSpecRequest.substr(0, len));
    if (r.size != 0) std::printf("# prefix %zu gave %lld\n", len, static_cast<long long>(r.size));
    CHECK_EQ(r.size, 0);
  }
  // From the comma on, the body bytes present do not change the answer.
  for (size_t len = 74; len <= kSpecRequest.size(); len++)
    CHECK_EQ(Parse(kSpecRequest.substr(0, len)).size, 74);
}

TEST("a length with a leading zero is SCGI_BAD_NETSTRING; a lone 0 is a valid empty netstring") {
  CHECK(ErrorOf("070:" + kSpecBlock + ",") == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf("00:,") == ErrorCode::SCGI_BAD_NETSTRING);
  // The netstring is fine; the empty block lacks CONTENT_LENGTH.
  CHECK(ErrorOf("0:,") == ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST);
  // The leading zero is refused as soon as the second digit arrives.
  CHECK(ErrorOf("07") == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK_EQ(Parse("0").size, 0);
}

TEST("a length with a non-digit, a sign or no digits at all is SCGI_BAD_NETSTRING") {
  const char* bad[] = {"7a:", "-1:", "+1:", " 70:", "70 :", ":", "x"};
  for (const char* s : bad) CHECK(ErrorOf(s) == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf(std::string("7\0:", 3)) == ErrorCode::SCGI_BAD_NETSTRING);
}

TEST("a length of more than nine digits is SCGI_BAD_NETSTRING, even before its ':' arrives") {
  static_assert(kScgiMaxLengthDigits == 9, "the cases below count nine digits");
  // Nine digits are a length (then too large for this max_block, or awaiting its block).
  CHECK(ErrorOf("999999999:", 1000) == ErrorCode::SCGI_BLOCK_TOO_LARGE);
  CHECK_EQ(Parse("999999999:", SIZE_MAX).size, 0);
  CHECK_EQ(Parse("999999999", SIZE_MAX).size, 0);
  // A tenth digit is refused whatever max_block is, and whether or not ':' follows.
  CHECK(ErrorOf("1234567890", SIZE_MAX) == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf("1234567890:", SIZE_MAX) == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf("1234567890:", 1000) == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf("00000000001:", SIZE_MAX) == ErrorCode::SCGI_BAD_NETSTRING);
}

TEST("a length not followed by ':' is SCGI_BAD_NETSTRING") {
  CHECK(ErrorOf("70;" + kSpecBlock + ",") == ErrorCode::SCGI_BAD_NETSTRING);
  CHECK(ErrorOf("70," + kSpecBlock + ",") == ErrorCode::SCGI_BAD_NETSTRING);
}

TEST("a block not followed by ',' is SCGI_BAD_NETSTRING") {
  CHECK(ErrorOf("70:" + kSpecBlock + ";") == ErrorCode::SCGI_BAD_NETSTRING);
  // A length one short puts the block's last NUL where the comma must be.
  CHECK(ErrorOf("69:" + kSpecBlock + ",") == ErrorCode::SCGI_BAD_NETSTRING);
  // One too long: the comma falls inside the block and the byte after it is the body's.
  CHECK(ErrorOf("71:" + kSpecBlock + "," + kSpecBody) == ErrorCode::SCGI_BAD_NETSTRING);
}

TEST("a block longer than max_block is refused as soon as its length is read") {
  CHECK(ErrorOf("100:", 99) == ErrorCode::SCGI_BLOCK_TOO_LARGE);
  CHECK(ErrorOf("70:", 69) == ErrorCode::SCGI_BLOCK_TOO_LARGE);
  // Exactly max_block is fine.
  CHECK_EQ(Parse("70:", 70).size, 0);
  CHECK_EQ(Parse(kSpecRequest, 70).size, 74);
  // Before the ':' the length is not known yet.
  CHECK_EQ(Parse("100", 99).size, 0);
}

TEST("a block that does not start with CONTENT_LENGTH is SCGI_CONTENT_LENGTH_NOT_FIRST") {
  CHECK(ErrorOf(Netstring(Pair("SCGI", "1") + Pair("CONTENT_LENGTH", "0"))) ==
        ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST);
  CHECK(ErrorOf(Netstring(Pair("content_length", "0") + Pair("SCGI", "1"))) ==
        ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST);
  CHECK(ErrorOf(Netstring(Pair("SCGI", "1"))) == ErrorCode::SCGI_CONTENT_LENGTH_NOT_FIRST);
}

TEST("an empty or non-decimal CONTENT_LENGTH is SCGI_BAD_CONTENT_LENGTH") {
  const char* bad[] = {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "18446744073709551616"};
  for (const char* v : bad) {
    CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", v) + Pair("SCGI", "1"))) ==
          ErrorCode::SCGI_BAD_CONTENT_LENGTH);
  }
}

TEST("CONTENT_LENGTH is decimal up to 2^64 - 1, leading zeros allowed") {
  Result r = Parse(Netstring(Pair("CONTENT_LENGTH", "18446744073709551615") + Pair("SCGI", "1")));
  CHECK(r.size > 0);
  CHECK_EQ(r.head.content_length, 18446744073709551615ull);
  r = Parse(Netstring(Pair("CONTENT_LENGTH", "007") + Pair("SCGI", "1")));
  CHECK(r.size > 0);
  CHECK_EQ(r.head.content_length, 7u);
}

TEST("a block without SCGI=1 is SCGI_NO_SCGI_HEADER: missing, 0, empty or not exactly 1") {
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0"))) == ErrorCode::SCGI_NO_SCGI_HEADER);
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0") + Pair("SCGI", "0"))) ==
        ErrorCode::SCGI_NO_SCGI_HEADER);
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0") + Pair("SCGI", ""))) == ErrorCode::SCGI_NO_SCGI_HEADER);
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0") + Pair("SCGI", "01"))) ==
        ErrorCode::SCGI_NO_SCGI_HEADER);
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0") + Pair("scgi", "1"))) ==
        ErrorCode::SCGI_NO_SCGI_HEADER);
  // SCGI=1 anywhere after CONTENT_LENGTH will do, even after an SCGI=0.
  CHECK(ErrorOf(Netstring(Pair("CONTENT_LENGTH", "0") + Pair("SCGI", "0") + Pair("X", "y") +
                          Pair("SCGI", "1"))) == ErrorCode::OK);
}

TEST("a name without a value, or a string without its NUL, is SCGI_BAD_HEADERS") {
  // A trailing name with nothing after its NUL.
  CHECK(ErrorOf(Netstring(Block() + std::string("X\0", 2))) == ErrorCode::SCGI_BAD_HEADERS);
  CHECK(ErrorOf(Netstring(std::string("CONTENT_LENGTH\0", 15))) == ErrorCode::SCGI_BAD_HEADERS);
  // A value missing its NUL.
  CHECK(ErrorOf(Netstring(Block() + std::string("X\0y", 3))) == ErrorCode::SCGI_BAD_HEADERS);
  // A name missing its NUL.
  CHECK(ErrorOf(Netstring(Block() + "X")) == ErrorCode::SCGI_BAD_HEADERS);
  CHECK(ErrorOf(Netstring("CONTENT_LENGTH")) == ErrorCode::SCGI_BAD_HEADERS);
}

TEST("an empty name is SCGI_EMPTY_NAME; an empty value is fine") {
  CHECK(ErrorOf(Netstring(Block(Pair("", "v")))) == ErrorCode::SCGI_EMPTY_NAME);
  CHECK(ErrorOf(Netstring(std::string("\0\0", 2))) == ErrorCode::SCGI_EMPTY_NAME);
  Result r = Parse(Netstring(Block(Pair("EMPTY", ""))));
  CHECK_EQ(r.vars.size(), 3u);
  CHECK(r.vars.size() == 3 && r.vars[2].first == "EMPTY" && r.vars[2].second.empty());
}

TEST("more pairs than max_vars is SCGI_TOO_MANY_VARS; exactly max_vars is fine") {
  std::string req = Netstring(Block(Pair("A", "1")));
  CHECK(ErrorOf(req, 8192, 2) == ErrorCode::SCGI_TOO_MANY_VARS);
  CHECK(ErrorOf(req, 8192, 3) == ErrorCode::OK);
  CHECK(ErrorOf(req, 8192, 0) == ErrorCode::SCGI_TOO_MANY_VARS);
}

TEST("repeated names are all returned in block order") {
  Result r = Parse(Netstring(Block(Pair("HTTP_X", "1") + Pair("HTTP_Y", "") + Pair("HTTP_X", "2"))));
  CHECK(r.size > 0);
  CHECK_EQ(r.vars.size(), 5u);
  if (r.vars.size() == 5) {
    CHECK(r.vars[2] == std::make_pair(std::string("HTTP_X"), std::string("1")));
    CHECK(r.vars[3] == std::make_pair(std::string("HTTP_Y"), std::string()));
    CHECK(r.vars[4] == std::make_pair(std::string("HTTP_X"), std::string("2")));
  }
}

TEST("bytes inside values are kept as they are, including ':' ',' and high bytes") {
  Result r = Parse(Netstring(Block(Pair("V", "a:b,c\xff\x01"))));
  CHECK(r.size > 0);
  CHECK(r.vars.size() == 3 && r.vars[2].second == "a:b,c\xff\x01");
}

// ---- Fixture replay -------------------------------------------------------------------------
// test/fixtures/scgi/*.md: the hex syntax of test/fixtures/uwsgi/README.md, with the SCGI
// expectations of test/fixtures/scgi/README.md.

namespace {

using tsgi_test::Fixture;
using tsgi_test::ParseHex;
using tsgi_test::Unescape;

std::vector<Fixture> ReadFixtures() {
  return tsgi_test::ReadFixtures("test/fixtures/scgi/");
}

// The parser's answer in the expect-block syntax, and the netstring size (0 or -1 when none).
std::string Judge(const Fixture& fx, const std::string& bytes, int64_t* size) {
  Guarded g(bytes);
  std::vector<UwsgiVar> vars(fx.max_vars + 1);
  ScgiRequestHead head;
  ErrorCode err = ErrorCode::OK;
  *size = ParseScgiRequest(g.data(), g.size(), fx.buffer_size, vars.data(), fx.max_vars, &head, &err);
  if (*size == 0) return "incomplete\n";
  if (*size < 0) return std::string("error=") + ErrorName(err) + "\n";
  std::string out = "vars:\n";
  for (size_t i = 0; i < head.num_vars; i++) out += S(vars[i].key) + "=" + S(vars[i].value) + "\n";
  out += "content_length=" + std::to_string(head.content_length) +
         " body=" + std::to_string(g.size() - static_cast<size_t>(*size)) + "\n";
  return out;
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

TEST("every scgi fixture file gives the expected result when replayed in C++") {
  std::vector<Fixture> all = ReadFixtures();
  CHECK(all.size() >= 30);
  for (const Fixture& fx : all) {
    std::string bytes = ParseHex(fx.hex);
    int64_t size = 0;
    std::string got = Judge(fx, bytes, &size);
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
}

TEST("every strict prefix of a scgi fixture is incomplete, or the same error as the whole") {
  for (const Fixture& fx : ReadFixtures()) {
    std::string bytes = ParseHex(fx.hex);
    int64_t size = 0;
    std::string whole = Judge(fx, bytes, &size);
    // Prefixes up to the netstring's end; body bytes after it do not matter.
    size_t end = size > 0 ? static_cast<size_t>(size) : bytes.size();
    for (size_t len = 0; len < end; len++) {
      int64_t s = 0;
      std::string got = Judge(fx, bytes.substr(0, len), &s);
      if (got != "incomplete\n" && got != whole) {
        std::printf("# fixture: %s\n#   prefix %zu gave %s", fx.name.c_str(), len, got.c_str());
        tsgi_test::Failures()++;
        break;
      }
    }
  }
}

TEST_MAIN()
