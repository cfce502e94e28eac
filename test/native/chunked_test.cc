// Unit tests of the chunked transfer-coding decoder (native/src/proto/chunked.cc).
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.h"
#include "proto/chunked.h"

using tsgi::ChunkedDecode;
using tsgi::ChunkedDecoder;
using tsgi::ChunkedLimits;
using tsgi::ChunkedStatus;
using tsgi::ErrorCode;
using tsgi::Span;

namespace {

struct Outcome {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  std::string data;
  size_t consumed = 0;  // total bytes consumed over all calls
  ErrorCode err = ErrorCode::OK;
};

// Feeds `pieces` one after the other, the way a socket layer would, looping on kData.
Outcome Feed(const std::vector<std::string>& pieces, ChunkedLimits limits = ChunkedLimits()) {
  ChunkedDecoder d;
  Outcome o;
  for (const std::string& piece : pieces) {
    size_t off = 0;
    for (;;) {
      size_t used = 0;
      Span data;
      ErrorCode err;
      ChunkedStatus st =
          ChunkedDecode(&d, piece.data() + off, piece.size() - off, limits, &used, &data, &err);
      off += used;
      o.consumed += used;
      o.status = st;
      if (st == ChunkedStatus::kData) {
        o.data.append(data.data, data.len);
        continue;
      }
      if (st == ChunkedStatus::kError) o.err = err;
      break;
    }
    if (o.status != ChunkedStatus::kNeedMore) break;
  }
  return o;
}

Outcome Whole(const std::string& s, ChunkedLimits limits = ChunkedLimits()) {
  return Feed({s}, limits);
}

// The same input split at every position (and byte by byte) must give the same outcome.
bool SplitsAgree(const std::string& s) {
  Outcome whole = Whole(s);
  for (size_t k = 0; k <= s.size(); k++) {
    Outcome o = Feed({s.substr(0, k), s.substr(k)});
    if (o.status != whole.status || o.data != whole.data || o.consumed != whole.consumed ||
        o.err != whole.err) {
      return false;
    }
  }
  std::vector<std::string> bytes;
  for (char c : s) bytes.push_back(std::string(1, c));
  Outcome o = Feed(bytes);
  return o.status == whole.status && o.data == whole.data && o.consumed == whole.consumed;
}

ErrorCode ErrorOf(const std::string& s) {
  Outcome o = Whole(s);
  return o.status == ChunkedStatus::kError ? o.err : ErrorCode::OK;
}

}  // namespace

TEST("decodes chunks and stops after the final CRLF") {
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Outcome o = Whole(body + "GET / HTTP/1.1\r\n");
  CHECK(o.status == ChunkedStatus::kDone);
  CHECK(o.data == "hello world");
  CHECK_EQ(o.consumed, body.size());
  CHECK(SplitsAgree(body));
}

TEST("accepts upper- and lower-case hex sizes and leading zeros") {
  Outcome o = Whole("A\r\n0123456789\r\n0a\r\nabcdefghij\r\n000\r\n\r\n");
  CHECK(o.status == ChunkedStatus::kDone);
  CHECK_EQ(o.data.size(), 20u);
}

TEST("asks for more input until the message ends") {
  Outcome o = Whole("5\r\nhel");
  CHECK(o.status == ChunkedStatus::kNeedMore);
  CHECK(o.data == "hel");
  CHECK(Whole("5\r\nhello\r\n0\r\n").status == ChunkedStatus::kNeedMore);
  CHECK(Whole("").status == ChunkedStatus::kNeedMore);
}

TEST("validates and discards trailer fields") {
  std::string body = "3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\t1 2 \r\n\r\n";
  Outcome o = Whole(body);
  CHECK(o.status == ChunkedStatus::kDone);
  CHECK(o.data == "abc");
  CHECK_EQ(o.consumed, body.size());
  CHECK(SplitsAgree(body));
  CHECK(ErrorOf("0\r\nA : b\r\n\r\n") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\nA: b\r\n c\r\n\r\n") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\nA: b\x01\r\n\r\n") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\nA: b\n\r\n") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\n\n") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\n\rx") == ErrorCode::HTTP_BAD_TRAILER);
  CHECK(ErrorOf("0\r\nNoColon\r\n\r\n") == ErrorCode::HTTP_BAD_TRAILER);
}

TEST("accepts chunk extensions with BWS, tokens and quoted strings") {
  std::string body = "3;a\r\nabc\r\n3 ; b = c ;d=\"x\\\"y;z\"\r\ndef\r\n3;e=\"\"\r\nghi\r\n0;last\r\n\r\n";
  Outcome o = Whole(body);
  CHECK(o.status == ChunkedStatus::kDone);
  CHECK(o.data == "abcdefghi");
  CHECK(SplitsAgree(body));
}

TEST("refuses malformed chunk extensions") {
  CHECK(ErrorOf("3;\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a=\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a \r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a=b \r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a=\"b\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a=b=c\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
  CHECK(ErrorOf("3;a(b\r\nabc\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_EXT);
}

TEST("refuses malformed chunk sizes") {
  const char* bad[] = {"\r\n",   "x\r\n", "-1\r\n", "+1\r\n",  " 1\r\n",
                       "1 \r\n", "1\n",   "1\rx",   "0x1\r\n", "1\t\r\n"};
  for (const char* b : bad) {
    CHECK(ErrorOf(std::string(b) + "a\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_SIZE);
  }
}

TEST("leading zeros in a chunk size do not count toward its 16 digits") {
  Outcome o = Whole("000000000000000005\r\nhello\r\n0000000000000000000000\r\n\r\n");
  CHECK(o.status == ChunkedStatus::kDone);
  CHECK_EQ(o.data, std::string("hello"));
  CHECK(ErrorOf("0000000000000000000000000000000010000000000000000\r\n") == ErrorCode::HTTP_CHUNK_TOO_LARGE);
}

TEST("refuses sizes over 16 significant hex digits or over max_chunk_size with 413") {
  CHECK(ErrorOf("10000000000000000\r\n") == ErrorCode::HTTP_CHUNK_TOO_LARGE);
  Outcome o = Whole("fffffffffffffff\r\nabc");
  CHECK(o.status == ChunkedStatus::kNeedMore);
  CHECK(ErrorOf("ffffffffffffffff\r\n") == ErrorCode::HTTP_CHUNK_TOO_LARGE);
  ChunkedLimits l;
  l.max_chunk_size = 16;
  CHECK(Whole("10\r\n0123456789abcdef\r\n0\r\n\r\n", l).status == ChunkedStatus::kDone);
  CHECK(Whole("11\r\n", l).err == ErrorCode::HTTP_CHUNK_TOO_LARGE);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_CHUNK_TOO_LARGE), 413);
}

TEST("requires CRLF after chunk data") {
  CHECK(ErrorOf("3\r\nabcd\r\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_DATA);
  CHECK(ErrorOf("3\r\nabc\n0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_DATA);
  CHECK(ErrorOf("3\r\nabc\rx") == ErrorCode::HTTP_BAD_CHUNK_DATA);
  CHECK(ErrorOf("3\r\nabc0\r\n\r\n") == ErrorCode::HTTP_BAD_CHUNK_DATA);
}

TEST("bounds the size line and the trailer section") {
  ChunkedLimits l;
  l.max_line = 16;
  l.max_trailers = 20;
  CHECK(Whole("3;abcdefghij\r\nabc\r\n0\r\n\r\n", l).status == ChunkedStatus::kDone);
  CHECK(Whole("3;abcdefghijklmn\r\nabc\r\n", l).err == ErrorCode::HTTP_CHUNK_LINE_TOO_LONG);
  CHECK(Whole("0\r\nA: 0123456789abcdef\r\n", l).err == ErrorCode::HTTP_CHUNK_LINE_TOO_LONG);
  CHECK(Whole("0\r\nA: 012345\r\nB: 012345\r\n\r\n", l).err == ErrorCode::HTTP_TRAILERS_TOO_LARGE);
  CHECK(Whole("0\r\nA: 0123\r\nB: 0123\r\n\r\n", l).status == ChunkedStatus::kDone);
}

TEST("keeps reporting the first error and the end after it is reached") {
  ChunkedDecoder d;
  size_t used;
  Span data;
  ErrorCode err;
  ChunkedLimits l;
  CHECK(ChunkedDecode(&d, "z", 1, l, &used, &data, &err) == ChunkedStatus::kError);
  CHECK(err == ErrorCode::HTTP_BAD_CHUNK_SIZE);
  CHECK(ChunkedDecode(&d, "0\r\n\r\n", 5, l, &used, &data, &err) == ChunkedStatus::kError);
  CHECK(err == ErrorCode::HTTP_BAD_CHUNK_SIZE);
  ChunkedDecoder e;
  CHECK(ChunkedDecode(&e, "0\r\n\r\nX", 6, l, &used, &data, &err) == ChunkedStatus::kDone);
  CHECK_EQ(used, 5u);
  CHECK(ChunkedDecode(&e, "X", 1, l, &used, &data, &err) == ChunkedStatus::kDone);
  CHECK_EQ(used, 0u);
}

TEST("returns data spans that point into the input without copying") {
  std::string s = "4\r\nwxyz\r\n0\r\n\r\n";
  ChunkedDecoder d;
  size_t used;
  Span data;
  ErrorCode err;
  CHECK(ChunkedDecode(&d, s.data(), s.size(), ChunkedLimits(), &used, &data, &err) == ChunkedStatus::kData);
  CHECK(data.data == s.data() + 3);
  CHECK_EQ(data.len, 4u);
  CHECK_EQ(used, 7u);
}

// Copies each prefix so that it ends right before a PROT_NONE page: any over-read faults.
TEST("never reads past the end of the input (guard page, every prefix)") {
  long page = sysconf(_SC_PAGESIZE);
  char* mem =
      static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK(mem != MAP_FAILED);
  if (mem == MAP_FAILED) return;
  CHECK_EQ(mprotect(mem + page, page, PROT_NONE), 0);
  const std::string inputs[] = {
      "5;a=\"q\\\"\" ; b\r\nhello\r\n1\r\nx\r\n0\r\nT: v\r\n\r\n",
      "3\r\nabcX",
      "0\r\nA : b\r\n\r\n",
  };
  for (const std::string& s : inputs) {
    for (size_t n = 0; n <= s.size(); n++) {
      char* start = mem + page - n;
      std::memcpy(start, s.data(), n);
      ChunkedDecoder d;
      size_t off = 0;
      for (int guard = 0; guard < 64; guard++) {
        size_t used;
        Span data;
        ErrorCode err;
        ChunkedStatus st = ChunkedDecode(&d, start + off, n - off, ChunkedLimits(), &used, &data, &err);
        off += used;
        CHECK(off <= n);
        volatile char sink = 0;
        for (size_t i = 0; i < data.len; i++) sink = static_cast<char>(sink ^ data.data[i]);
        if (st != ChunkedStatus::kData) break;
      }
    }
  }
  munmap(mem, 2 * page);
}

TEST_MAIN()
