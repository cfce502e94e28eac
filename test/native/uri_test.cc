// Unit tests of DecodePathInfo (native/src/proto/uri.h): percent-decoding first, then RFC 3986
// 5.2.4 dot-segment removal, with %00, malformed escapes and ".." above the root refused.
// Each input is copied so that it ends right before a PROT_NONE page, so an over-read faults.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "harness.h"
#include "proto/uri.h"

using namespace tsgi;

namespace {

struct Result {
  long n;
  std::string out;
  ErrorCode err;
};

// Decodes `in` from a guarded copy into an output buffer of exactly in.size() bytes (the
// documented minimum), also guarded, so a write past out_cap faults too.
Result Decode(const std::string& in, size_t out_cap_extra = 0) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t need = in.size() + out_cap_extra;
  size_t pages = (std::max(in.size(), need) + page - 1) / page + 1;
  size_t size = pages * page;
  char* a =
      static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  char* b =
      static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  mprotect(a + size - page, page, PROT_NONE);
  mprotect(b + size - page, page, PROT_NONE);
  char* src = a + size - page - in.size();
  in.copy(src, in.size());
  char* dst = b + size - page - need;
  ErrorCode err = ErrorCode::OK;
  long n = DecodePathInfo(Span{src, in.size()}, dst, need, &err);
  Result r{n, n >= 0 ? std::string(dst, static_cast<size_t>(n)) : std::string(), err};
  munmap(a, size);
  munmap(b, size);
  return r;
}

bool Gives(const std::string& in, const std::string& want) {
  Result r = Decode(in);
  if (r.n < 0 || r.out != want) {
    std::printf("# %s -> %s (n=%ld, err=%s), want %s\n", in.c_str(), r.out.c_str(), r.n, ErrorName(r.err),
                want.c_str());
    return false;
  }
  return true;
}

bool Refuses(const std::string& in, ErrorCode want) {
  Result r = Decode(in);
  if (r.n != -1 || r.err != want) {
    std::printf("# %s -> n=%ld err=%s, want %s\n", in.c_str(), r.n, ErrorName(r.err), ErrorName(want));
    return false;
  }
  return true;
}

}  // namespace

TEST("a path with no escape and no dot segment is copied as it is") {
  CHECK(Gives("/", "/"));
  CHECK(Gives("/hello/world.txt", "/hello/world.txt"));
  CHECK(Gives("/a+b;c=d,e", "/a+b;c=d,e"));
  CHECK(Gives("/a//b/", "/a//b/"));
}

TEST("percent escapes are decoded, upper or lower case") {
  CHECK(Gives("/a%20b", "/a b"));
  CHECK(Gives("/%7euser/%7Eother", "/~user/~other"));
  CHECK(Gives("/%25", "/%"));
  CHECK(Gives("/%252e", "/%2e"));
  CHECK(Gives("/caf%C3%A9", "/caf\xC3\xA9"));
  CHECK(Gives("/%ff", "/\xff"));
}

TEST("%2F decodes to a slash, as nginx and uWSGI do") {
  CHECK(Gives("/a%2Fb", "/a/b"));
  CHECK(Gives("/a%2fb", "/a/b"));
}

TEST("dot segments are removed as RFC 3986 5.2.4 says") {
  CHECK(Gives("/a/b/../c", "/a/c"));
  CHECK(Gives("/a/./b", "/a/b"));
  CHECK(Gives("/a/.", "/a/"));
  CHECK(Gives("/a/b/..", "/a/"));
  CHECK(Gives("/a/..", "/"));
  CHECK(Gives("/.", "/"));
  CHECK(Gives("/./", "/"));
  CHECK(Gives("/a/b/c/../../d", "/a/d"));
  CHECK(Gives("/a//..", "/a/"));
  CHECK(Gives("/a//../b", "/a/b"));
  CHECK(Gives("//..", "/"));
}

TEST("segments that only look like dots are ordinary") {
  CHECK(Gives("/a/.../b", "/a/.../b"));
  CHECK(Gives("/a/..b/.c/b.", "/a/..b/.c/b."));
  CHECK(Gives("/.hidden", "/.hidden"));
}

TEST("escapes are decoded before dot segments are removed") {
  CHECK(Gives("/a/%2e%2e/b", "/b"));
  CHECK(Gives("/a/.%2E/b", "/b"));
  CHECK(Gives("/a/%2e/b", "/a/b"));
  CHECK(Gives("/a%2F..%2Fb", "/b"));
  CHECK(Gives("/f%2e%2e/x", "/f../x"));
  CHECK(Gives("/a%20b/c%2Fd/./e/../x/%2e%2e/f%2e%2e/%7Euser", "/a b/c/d/f../~user"));
}

TEST("%00 and a raw NUL are HTTP_NUL_IN_PATH") {
  CHECK(Refuses("/a%00b", ErrorCode::HTTP_NUL_IN_PATH));
  CHECK(Refuses(std::string("/a\0b", 4), ErrorCode::HTTP_NUL_IN_PATH));
}

TEST("malformed escapes are HTTP_BAD_PATH") {
  CHECK(Refuses("/a%zz", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a%g0", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a%0g", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a%", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a%2", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/%%41", ErrorCode::HTTP_BAD_PATH));
}

TEST("a path not starting with a slash is HTTP_BAD_PATH") {
  CHECK(Refuses("", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("a/b", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("*", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("%2Fa", ErrorCode::HTTP_BAD_PATH));
}

TEST("climbing above the root is HTTP_BAD_PATH, encoded or not") {
  CHECK(Refuses("/..", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/../", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a/../..", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/%2e%2e/etc/passwd", ErrorCode::HTTP_BAD_PATH));
  CHECK(Refuses("/a/%2E%2E%2f..", ErrorCode::HTTP_BAD_PATH));
}

TEST("an output buffer shorter than the input is HTTP_URI_TOO_LONG and untouched") {
  char out[4] = {'#', '#', '#', '#'};
  ErrorCode err = ErrorCode::OK;
  CHECK_EQ(DecodePathInfo(Span{"/abcde", 6}, out, sizeof out, &err), -1L);
  CHECK(err == ErrorCode::HTTP_URI_TOO_LONG);
  CHECK(out[0] == '#');
}

TEST("the result is never longer than the input") {
  const char* inputs[] = {"/", "/a/./b/../c", "/%41%42", "/x/y/z/", "/a/.", "/."};
  for (const char* in : inputs) {
    Result r = Decode(in);
    CHECK(r.n >= 0 && static_cast<size_t>(r.n) <= std::strlen(in));
  }
}

TEST_MAIN()
