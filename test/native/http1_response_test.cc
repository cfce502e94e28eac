// Unit tests of native/src/proto/http1_response.{h,cc}: how the router reads a worker's
// response head to decide the client connection's framing (RFC 9112 section 6.3).
#include <string>

#include "harness.h"
#include "proto/http1_response.h"

using namespace tsgi;

namespace {

struct Scan {
  int64_t n;
  HttpResponseHead h;
};

Scan Run(const std::string& bytes, bool head_request = false) {
  Scan s;
  // A heap copy of exactly the input, so ASan sees any read past it.
  std::string copy(bytes);
  char* buf = new char[copy.size() + 1];
  std::copy(copy.begin(), copy.end(), buf);
  s.n = ScanHttpResponseHead(buf, copy.size(), head_request, &s.h);
  delete[] buf;
  return s;
}

}  // namespace

TEST("a response with Content-Length is length-delimited and the head length is exact") {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n";
  Scan s = Run(head + "hello world\n");
  CHECK_EQ(s.n, static_cast<int64_t>(head.size()));
  CHECK_EQ(s.h.status, 200);
  CHECK(s.h.framing == ResponseFraming::kLength);
  CHECK_EQ(s.h.content_length, 12u);
  CHECK_EQ(s.h.headers_at, std::string("HTTP/1.1 200 OK\r\n").size());
  CHECK(!s.h.connection_close);
}

TEST("an incomplete head asks for more bytes at every split point") {
  std::string head = "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n";
  for (size_t i = 0; i < head.size(); i++) CHECK_EQ(Run(head.substr(0, i)).n, 0);
  CHECK_EQ(Run(head).n, static_cast<int64_t>(head.size()));
}

TEST("chunked wins over Content-Length, and a final coding other than chunked means close") {
  CHECK(Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").h.framing == ResponseFraming::kChunked);
  CHECK(Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n").h.framing ==
        ResponseFraming::kChunked);
  CHECK(Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").h.framing ==
        ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").h.framing ==
        ResponseFraming::kChunked);
}

TEST("no Content-Length, a malformed one or two that disagree make the response close-delimited") {
  CHECK(Run("HTTP/1.1 200 OK\r\n\r\n").h.framing == ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n").h.framing == ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").h.framing == ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n").h.framing ==
        ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n").h.framing ==
        ResponseFraming::kClose);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n").h.has_content_length);
  CHECK(!Run("HTTP/1.1 200 OK\r\n\r\n").h.has_content_length);
  Scan same = Run("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n");
  CHECK(same.h.framing == ResponseFraming::kLength);
  CHECK_EQ(same.h.content_length, 3u);
}

TEST("a response's Content-Length is read by the request rule: leading zeros are plain digits") {
  Scan z = Run("HTTP/1.1 200 OK\r\nContent-Length: 00000000000000000005\r\n\r\n");
  CHECK(z.h.framing == ResponseFraming::kLength);
  CHECK_EQ(z.h.content_length, 5u);
}

TEST("1xx, 204, 304 and answers to HEAD have no body whatever their headers say") {
  CHECK(Run("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").h.framing == ResponseFraming::kNoBody);
  CHECK(Run("HTTP/1.1 304 Not Modified\r\n\r\n").h.framing == ResponseFraming::kNoBody);
  CHECK(Run("HTTP/1.1 103 Early Hints\r\n\r\n").h.framing == ResponseFraming::kNoBody);
  CHECK(Run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).h.framing == ResponseFraming::kNoBody);
}

TEST("Connection: close is seen among other tokens, in any case") {
  CHECK(Run("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n").h.connection_close);
  CHECK(!Run("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").h.connection_close);
}

TEST("HTTP/1.0 status lines are read; anything that is not HTTP/1.x is rejected early") {
  Scan s = Run("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  CHECK_EQ(s.h.version_minor, 0);
  CHECK_EQ(s.h.status, 404);
  CHECK_EQ(Run("Status: 200 OK\r\n\r\n").n, -1);
  CHECK_EQ(Run("HTTP/2 200\r\n\r\n").n, -1);
  CHECK_EQ(Run("HTTP/1.1 2x0 OK\r\n\r\n").n, -1);
  CHECK_EQ(Run("HTTP/1.1 2000 OK\r\n\r\n").n, -1);
  CHECK_EQ(Run("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").h.status, 200);
  CHECK_EQ(Run("HTTX").n, -1);
  CHECK_EQ(Run("HTT").n, 0);
  CHECK_EQ(Run("").n, 0);
}

TEST("bare LF line ends are accepted from the worker") {
  Scan s = Run("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
  CHECK_EQ(s.n, static_cast<int64_t>(std::string("HTTP/1.1 200 OK\nContent-Length: 2\n\n").size()));
  CHECK(s.h.framing == ResponseFraming::kLength);
}

TEST_MAIN()
