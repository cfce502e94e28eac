// Unit tests of the HTTP/1.1 request-head parser (native/src/proto/http1.cc).
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "harness.h"
#include "proto/http1.h"

using tsgi::BodyFraming;
using tsgi::ErrorCode;
using tsgi::HttpHeadScan;
using tsgi::HttpParseOptions;
using tsgi::HttpRequestHead;
using tsgi::ParseHttpRequestHead;
using tsgi::ScanHttpRequestHead;

namespace {

HttpRequestHead g_head;  // large (kMaxHeaders entries): keep it off the stack
std::string g_input;     // the spans in g_head point into this copy of the last input

int64_t Parse(const std::string& s, ErrorCode* err, HttpParseOptions opts = HttpParseOptions()) {
  g_input = s;
  return ParseHttpRequestHead(g_input.data(), g_input.size(), opts, &g_head, err);
}

// The error a complete input is refused with, or OK when it is accepted.
ErrorCode ErrorOf(const std::string& s, HttpParseOptions opts = HttpParseOptions()) {
  ErrorCode err = ErrorCode::OK;
  int64_t rc = Parse(s, &err, opts);
  if (rc > 0) return ErrorCode::OK;
  if (rc == 0) return ErrorCode::IO_PEER_CLOSED;  // stands for "incomplete" in these tests
  return err;
}

// Every strict prefix of an accepted head must be "incomplete", never an error or a success.
bool PrefixesAreIncomplete(const std::string& s) {
  for (size_t n = 0; n < s.size(); n++) {
    ErrorCode err;
    std::string prefix = s.substr(0, n);
    if (Parse(prefix, &err) != 0) return false;
  }
  return true;
}

// Feeds s one byte at a time to one resumable scan (each call sees a fresh copy of the
// bytes so far, as a connection's growing buffer would) and checks that every call answers
// as a one-shot parse of the same prefix does. Returns the scan's final state.
HttpHeadScan FeedBytewise(const std::string& s, bool* agrees, HttpParseOptions opts = HttpParseOptions()) {
  HttpHeadScan scan;
  *agrees = true;
  for (size_t n = 1; n <= s.size(); n++) {
    std::string prefix = s.substr(0, n);
    ErrorCode scan_err = ErrorCode::OK, parse_err = ErrorCode::OK;
    int64_t got = ScanHttpRequestHead(prefix.data(), n, opts, &scan, nullptr, &scan_err);
    int64_t want = Parse(prefix, &parse_err, opts);
    if (got != want || (want < 0 && scan_err != parse_err)) *agrees = false;
  }
  return scan;
}

std::string Req(const std::string& line, const std::string& fields) {
  return line + "\r\nHost: example.com\r\n" + fields + "\r\n";
}

}  // namespace

TEST("parses a simple GET and reports its fields") {
  std::string s = "GET /a/b?x=1&y=2#frag HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
  ErrorCode err;
  CHECK_EQ(Parse(s, &err), static_cast<int64_t>(s.size()));
  CHECK_SPAN(g_head.method, "GET");
  CHECK_SPAN(g_head.target, "/a/b?x=1&y=2#frag");
  CHECK_SPAN(g_head.path, "/a/b");
  CHECK_SPAN(g_head.query, "x=1&y=2");
  CHECK_EQ(g_head.version_major, 1);
  CHECK_EQ(g_head.version_minor, 1);
  CHECK_EQ(g_head.num_headers, 2u);
  CHECK_SPAN(g_head.headers[0].name, "Host");
  CHECK_SPAN(g_head.headers[0].value, "example.com");
  CHECK_SPAN(g_head.headers[1].name, "User-Agent");
  CHECK_EQ(g_head.host_index, 0);
  CHECK(g_head.keep_alive);
  CHECK(g_head.framing == BodyFraming::kNone);
  CHECK(PrefixesAreIncomplete(s));
}

TEST("returns only the head length when body bytes and a pipelined request follow") {
  std::string head = Req("POST /p HTTP/1.1", "Content-Length: 3\r\n");
  std::string s = head + "abcGET / HTTP/1.1\r\n";
  ErrorCode err;
  CHECK_EQ(Parse(s, &err), static_cast<int64_t>(head.size()));
  CHECK(g_head.framing == BodyFraming::kLength);
  CHECK_EQ(g_head.content_length, 3u);
}

TEST("skips empty lines before the request line and counts them") {
  std::string s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ErrorCode err;
  CHECK_EQ(Parse(s, &err), static_cast<int64_t>(s.size()));
  CHECK_SPAN(g_head.method, "GET");
}

TEST("strips OWS around field values and keeps empty values") {
  ErrorCode err;
  std::string s = Req("GET / HTTP/1.1", "A: \t v a l \t \r\nB:\r\nC:   \r\n");
  CHECK(Parse(s, &err) > 0);
  CHECK_SPAN(g_head.headers[1].value, "v a l");
  CHECK_SPAN(g_head.headers[2].value, "");
  CHECK_SPAN(g_head.headers[3].value, "");
}

TEST("accepts HTAB and obs-text inside field values") {
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "X: a\tb\xc3\xa9\r\n")) == ErrorCode::OK);
}

TEST("accepts any token as a method") {
  CHECK(ErrorOf(Req("PURGE-ALL! / HTTP/1.1", "")) == ErrorCode::OK);
  CHECK_SPAN(g_head.method, "PURGE-ALL!");
  CHECK(g_head.form == tsgi::TargetForm::kOrigin);
}

TEST("splits an absolute-form target into authority, path and query") {
  CHECK(ErrorOf(Req("GET http://h:8080/x/y?q=1#f HTTP/1.1", "")) == ErrorCode::OK);
  CHECK(g_head.form == tsgi::TargetForm::kAbsolute);
  CHECK_SPAN(g_head.target, "http://h:8080/x/y?q=1#f");
  CHECK_SPAN(g_head.authority, "h:8080");
  CHECK_SPAN(g_head.path, "/x/y");
  CHECK_SPAN(g_head.query, "q=1");
  CHECK(ErrorOf(Req("GET HTTPS://[::1]:443?q HTTP/1.1", "")) == ErrorCode::OK);
  CHECK_SPAN(g_head.authority, "[::1]:443");
  CHECK_SPAN(g_head.path, "");
  CHECK_SPAN(g_head.query, "q");
  CHECK(ErrorOf(Req("GET http://h HTTP/1.1", "")) == ErrorCode::OK);
  CHECK_SPAN(g_head.authority, "h");
  CHECK_SPAN(g_head.path, "");
}

TEST("refuses an absolute-form target with another scheme, userinfo or no authority") {
  CHECK(ErrorOf(Req("GET ftp://h/x HTTP/1.1", "")) == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf(Req("GET http://u:p@h/x HTTP/1.1", "")) == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf(Req("GET http:///x HTTP/1.1", "")) == ErrorCode::HTTP_BAD_TARGET);
  // Refused as soon as the target has ended, before the rest of the head.
  CHECK(ErrorOf("GET ftp://h/x ") == ErrorCode::HTTP_BAD_TARGET);
}

TEST("accepts the asterisk-form for OPTIONS only") {
  CHECK(ErrorOf(Req("OPTIONS * HTTP/1.1", "")) == ErrorCode::OK);
  CHECK(g_head.form == tsgi::TargetForm::kAsterisk);
  CHECK_SPAN(g_head.path, "*");
  CHECK_SPAN(g_head.query, "");
  CHECK(ErrorOf(Req("GET * HTTP/1.1", "")) == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf(Req("options * HTTP/1.1", "")) == ErrorCode::HTTP_BAD_TARGET);
}

TEST("leaves an authority-form target whole, for the path decoder to refuse") {
  CHECK(ErrorOf(Req("CONNECT h:443 HTTP/1.1", "")) == ErrorCode::OK);
  CHECK(g_head.form == tsgi::TargetForm::kOther);
  CHECK_SPAN(g_head.path, "h:443");
}

TEST("reads Content-Length leading zeros as plain digits and refuses a value over 64 bits") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 00000000000000000005\r\n")) == ErrorCode::OK);
  CHECK_EQ(g_head.content_length, 5u);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 18446744073709551615\r\n")) == ErrorCode::OK);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 18446744073709551616\r\n")) ==
        ErrorCode::HTTP_BAD_CONTENT_LENGTH);
}

TEST("splits a target with an empty query and no query") {
  CHECK(ErrorOf(Req("GET /x? HTTP/1.1", "")) == ErrorCode::OK);
  CHECK_SPAN(g_head.path, "/x");
  CHECK_SPAN(g_head.query, "");
  CHECK(ErrorOf(Req("GET /x#?y HTTP/1.1", "")) == ErrorCode::OK);
  CHECK_SPAN(g_head.path, "/x");
  CHECK_SPAN(g_head.query, "");
}

TEST("refuses malformed request lines") {
  CHECK(ErrorOf("GET  / HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf("GET /  HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_VERSION);
  CHECK(ErrorOf("GET / HTTP/1.1 \r\n\r\n") == ErrorCode::HTTP_BAD_REQUEST_LINE);
  CHECK(ErrorOf("GET /\r\n\r\n") == ErrorCode::HTTP_BAD_REQUEST_LINE);
  CHECK(ErrorOf(" GET / HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_METHOD);
  CHECK(ErrorOf("G(T / HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_METHOD);
  CHECK(ErrorOf("GET\t/ HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_METHOD);
  CHECK(ErrorOf("GET /a\x01 HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf("GET /\xce\xb4 HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_TARGET);
  CHECK(ErrorOf("GET / http/1.1\r\n\r\n") == ErrorCode::HTTP_BAD_VERSION);
  CHECK(ErrorOf("GET / HTTP/1.10\r\n\r\n") == ErrorCode::HTTP_BAD_VERSION);
  CHECK(ErrorOf("GET / HTTP/11\r\n\r\n") == ErrorCode::HTTP_BAD_VERSION);
  CHECK(ErrorOf("GET / RTSP/1.0\r\n\r\n") == ErrorCode::HTTP_BAD_VERSION);
}

TEST("answers well-formed but unsupported versions with 505") {
  CHECK(ErrorOf("GET / HTTP/2.0\r\n\r\n") == ErrorCode::HTTP_UNSUPPORTED_VERSION);
  CHECK(ErrorOf("GET / HTTP/1.2\r\n\r\n") == ErrorCode::HTTP_UNSUPPORTED_VERSION);
  CHECK(ErrorOf("GET / HTTP/0.9\r\n\r\n") == ErrorCode::HTTP_UNSUPPORTED_VERSION);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_UNSUPPORTED_VERSION), 505);
}

TEST("refuses bare LF and bare CR anywhere in the head") {
  CHECK(ErrorOf("GET / HTTP/1.1\nHost: h\n\n") == ErrorCode::HTTP_BARE_LF);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: h\n\r\n") == ErrorCode::HTTP_BARE_LF);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\n\n") == ErrorCode::HTTP_BARE_LF);
  CHECK(ErrorOf("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == ErrorCode::HTTP_BARE_LF);
  CHECK(ErrorOf("GET / HTTP/1.1\rHost: h\r\n\r\n") == ErrorCode::HTTP_BARE_CR);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") == ErrorCode::HTTP_BARE_CR);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\n\rX") == ErrorCode::HTTP_BARE_CR);
}

TEST("refuses obs-fold, whitespace before the colon and malformed names") {
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "A: b\r\n  c\r\n")) == ErrorCode::HTTP_OBS_FOLD);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "A: b\r\n\tc\r\n")) == ErrorCode::HTTP_OBS_FOLD);
  CHECK(ErrorOf("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == ErrorCode::HTTP_BAD_HEADER_NAME);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "A : b\r\n")) == ErrorCode::HTTP_WS_BEFORE_COLON);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "A\t: b\r\n")) == ErrorCode::HTTP_WS_BEFORE_COLON);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", ": b\r\n")) == ErrorCode::HTTP_BAD_HEADER_NAME);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "A(b: c\r\n")) == ErrorCode::HTTP_BAD_HEADER_NAME);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Ab\r\n")) == ErrorCode::HTTP_BAD_HEADER_NAME);
}

TEST("refuses NUL, DEL and other control bytes in field values") {
  const char* bad[] = {"\x00", "\x01", "\x0b", "\x0c", "\x1f", "\x7f"};
  for (const char* b : bad) {
    std::string v = std::string("X: a") + std::string(b, 1) + "b\r\n";
    CHECK(ErrorOf(Req("GET / HTTP/1.1", v)) == ErrorCode::HTTP_BAD_HEADER_VALUE);
  }
}

TEST("requires exactly one Host on HTTP/1.1 and at most one on HTTP/1.0") {
  CHECK(ErrorOf("GET / HTTP/1.1\r\n\r\n") == ErrorCode::HTTP_MISSING_HOST);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == ErrorCode::HTTP_DUP_HOST);
  CHECK(ErrorOf("GET / HTTP/1.0\r\n\r\n") == ErrorCode::OK);
  CHECK(ErrorOf("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n") == ErrorCode::HTTP_DUP_HOST);
  HttpParseOptions o;
  o.require_host = false;
  CHECK(ErrorOf("GET / HTTP/1.1\r\n\r\n", o) == ErrorCode::OK);
  CHECK_EQ(g_head.host_index, -1);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nX: y\r\nHoSt:\r\n\r\n") == ErrorCode::OK);
  CHECK_EQ(g_head.host_index, 1);
}

TEST("reads Content-Length strictly") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 0\r\n")) == ErrorCode::OK);
  CHECK(g_head.framing == BodyFraming::kLength);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "content-length:  18446744073709551615 \r\n")) == ErrorCode::OK);
  CHECK_EQ(g_head.content_length, UINT64_MAX);
  const char* bad[] = {
      "", "+5", "-5", "5 5", "5,5", "5, 5", "0x5", "5a", "18446744073709551616", "1000000000000000000000"};
  for (const char* b : bad) {
    CHECK(ErrorOf(Req("POST / HTTP/1.1", std::string("Content-Length: ") + b + "\r\n")) ==
          ErrorCode::HTTP_BAD_CONTENT_LENGTH);
  }
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 5\r\n")) ==
        ErrorCode::HTTP_DUP_CONTENT_LENGTH);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n")) ==
        ErrorCode::HTTP_DUP_CONTENT_LENGTH);
}

TEST("refuses Content-Length together with Transfer-Encoding in either order") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")) ==
        ErrorCode::HTTP_CL_AND_TE);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "transfer-encoding: chunked\r\ncontent-LENGTH: 5\r\n")) ==
        ErrorCode::HTTP_CL_AND_TE);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_CL_AND_TE), 400);
}

TEST("accepts chunked as the final coding and refuses everything else") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n")) == ErrorCode::OK);
  CHECK(g_head.framing == BodyFraming::kChunked);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: CHUNKED\r\n")) == ErrorCode::OK);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: , chunked,\r\n")) == ErrorCode::OK);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\n")) == ErrorCode::HTTP_TE_NOT_CHUNKED);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunked, gzip\r\n")) ==
        ErrorCode::HTTP_TE_NOT_CHUNKED);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n")) ==
        ErrorCode::HTTP_TE_NOT_CHUNKED);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n")) ==
        ErrorCode::HTTP_TE_UNKNOWN);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")) ==
        ErrorCode::HTTP_TE_UNKNOWN);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_TE_UNKNOWN), 501);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n")) ==
        ErrorCode::HTTP_BAD_TRANSFER_ENCODING);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunked;q=1\r\n")) ==
        ErrorCode::HTTP_TE_NOT_CHUNKED);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: \"chunked\", chunked\r\n")) ==
        ErrorCode::HTTP_BAD_TRANSFER_ENCODING);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding:\r\n")) == ErrorCode::HTTP_BAD_TRANSFER_ENCODING);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Transfer-Encoding: chunkedx\r\n")) == ErrorCode::HTTP_TE_NOT_CHUNKED);
}

TEST("turns keep-alive off for a chunked HTTP/1.0 request") {
  CHECK(ErrorOf("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        ErrorCode::OK);
  CHECK(g_head.framing == BodyFraming::kChunked);
  CHECK(!g_head.keep_alive);
}

TEST("derives keep-alive from the version and the Connection token list") {
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "")) == ErrorCode::OK);
  CHECK(g_head.keep_alive);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Connection: Close\r\n")) == ErrorCode::OK);
  CHECK(!g_head.keep_alive);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Connection: foo, \tclose ,bar\r\n")) == ErrorCode::OK);
  CHECK(!g_head.keep_alive);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Connection: closed\r\n")) == ErrorCode::OK);
  CHECK(g_head.keep_alive);
  CHECK(ErrorOf("GET / HTTP/1.0\r\n\r\n") == ErrorCode::OK);
  CHECK(!g_head.keep_alive);
  CHECK(ErrorOf("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == ErrorCode::OK);
  CHECK(g_head.keep_alive);
  CHECK(ErrorOf("GET / HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n\r\n") == ErrorCode::OK);
  CHECK(g_head.keep_alive);
  CHECK(ErrorOf("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") == ErrorCode::OK);
  CHECK(!g_head.keep_alive);
}

TEST("notes Connection: upgrade without treating the request specially") {
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n")) ==
        ErrorCode::OK);
  CHECK(g_head.upgrade);
  CHECK(g_head.keep_alive);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", "Upgrade: websocket\r\n")) == ErrorCode::OK);
  CHECK(!g_head.upgrade);
}

TEST("accepts Expect: 100-continue and answers other expectations with 417") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Expect: 100-Continue\r\nContent-Length: 1\r\n")) == ErrorCode::OK);
  CHECK(g_head.expect_continue);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Expect: 200-ok\r\n")) == ErrorCode::HTTP_BAD_EXPECT);
  CHECK(ErrorOf(Req("POST / HTTP/1.1", "Expect:\r\n")) == ErrorCode::HTTP_BAD_EXPECT);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_BAD_EXPECT), 417);
  CHECK(ErrorOf("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") == ErrorCode::OK);
  CHECK(!g_head.expect_continue);
}

TEST("refuses more than kMaxHeaders fields with 431") {
  std::string fields;
  for (size_t i = 0; i + 1 < tsgi::kMaxHeaders; i++) fields += "X: y\r\n";
  HttpParseOptions o;
  o.max_head_size = 65536;
  CHECK(ErrorOf(Req("GET / HTTP/1.1", fields), o) == ErrorCode::OK);
  CHECK_EQ(g_head.num_headers, tsgi::kMaxHeaders);
  CHECK(ErrorOf(Req("GET / HTTP/1.1", fields + "Z: z\r\n"), o) == ErrorCode::HTTP_TOO_MANY_HEADERS);
}

TEST("refuses an incomplete head longer than max_head_size with 431") {
  HttpParseOptions o;
  o.max_head_size = 64;
  std::string s = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(60, 'a');
  CHECK(ErrorOf(s.substr(0, 64), o) == ErrorCode::IO_PEER_CLOSED);
  CHECK(ErrorOf(s.substr(0, 65), o) == ErrorCode::HTTP_HEAD_TOO_LARGE);
  CHECK(ErrorOf(s + "\r\n\r\n", o) == ErrorCode::HTTP_HEAD_TOO_LARGE);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_HEAD_TOO_LARGE), 431);
  std::string exact = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  o.max_head_size = exact.size();
  CHECK(ErrorOf(exact, o) == ErrorCode::OK);
}

TEST("refuses an over-long target with 414 before the head is complete") {
  HttpParseOptions o;
  o.max_target_len = 10;
  CHECK(ErrorOf("GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n", o) == ErrorCode::OK);
  CHECK(ErrorOf("GET /1234567890", o) == ErrorCode::HTTP_URI_TOO_LONG);
  CHECK(ErrorOf("GET /123456789", o) == ErrorCode::IO_PEER_CLOSED);
  CHECK_EQ(tsgi::ErrorStatus(ErrorCode::HTTP_URI_TOO_LONG), 414);
}

TEST("refuses garbage at its first byte instead of waiting for the head") {
  CHECK(ErrorOf("\x16\x03\x01\x02") == ErrorCode::HTTP_BAD_METHOD);
  CHECK(ErrorOf("GET / XTTP") == ErrorCode::HTTP_BAD_VERSION);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n") == ErrorCode::HTTP_BAD_CONTENT_LENGTH);
}

TEST("reports every strict prefix of accepted requests as incomplete") {
  CHECK(PrefixesAreIncomplete(
      Req("POST /x?y HTTP/1.1", "Transfer-Encoding: chunked\r\nConnection: close\r\n")));
  CHECK(PrefixesAreIncomplete("\r\nOPTIONS * HTTP/1.0\r\n\r\n"));
}

TEST("rewrites every field of a reused result struct") {
  CHECK(ErrorOf(Req("POST / HTTP/1.1",
                    "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
                    "Connection: upgrade\r\n")) == ErrorCode::OK);
  CHECK(ErrorOf("GET / HTTP/1.0\r\n\r\n") == ErrorCode::OK);
  CHECK(g_head.framing == BodyFraming::kNone);
  CHECK(!g_head.expect_continue);
  CHECK(!g_head.upgrade);
  CHECK_EQ(g_head.host_index, -1);
  CHECK_EQ(g_head.num_headers, 0u);
  CHECK_EQ(g_head.version_minor, 0);
}

// Found by test/fuzz/http1_fuzz.cc: an error seen in a prefix must be the error of the whole.
TEST("gives a prefix the same error as the whole input") {
  HttpParseOptions o;
  o.max_head_size = 48;
  std::string s = "POST / HTTP/1.1\r\nHost: h\r\nX: 1\r\nTransfer-Encoding: chu\x9dnked\rte";
  CHECK(ErrorOf(s.substr(0, 50), o) == ErrorCode::HTTP_HEAD_TOO_LARGE);
  CHECK(ErrorOf(s, o) == ErrorCode::HTTP_HEAD_TOO_LARGE);
  std::string v = "GET / HTTP/1.5s\r\n\r\n";
  CHECK(ErrorOf(v.substr(0, 14)) == ErrorCode::HTTP_UNSUPPORTED_VERSION);
  CHECK(ErrorOf(v) == ErrorCode::HTTP_UNSUPPORTED_VERSION);
  CHECK(ErrorOf("GET / HTTP/1.1s\r\n\r\n") == ErrorCode::HTTP_BAD_REQUEST_LINE);
}

TEST("a head fed one byte at a time costs O(n): each byte is examined a bounded number of times") {
  std::string head = "POST /" + std::string(3000, 'p') + "?q=1 HTTP/1.1\r\nHost: example.com\r\n";
  for (int i = 0; i < 40; i++) head += "X-Field-" + std::to_string(i) + ": " + std::string(60, 'v') + "\r\n";
  head += "Content-Length: 5\r\n\r\n";
  HttpParseOptions opts;
  opts.max_head_size = 16384;
  opts.max_target_len = 8192;
  bool agrees = false;
  HttpHeadScan scan = FeedBytewise(head, &agrees, opts);
  CHECK(agrees);
  CHECK_EQ(scan.result, static_cast<int64_t>(head.size()));
  // Re-parsing from byte 0 on every read examines about n^2/2 bytes (over 10^7 here).
  CHECK(scan.examined <= 12 * head.size());
  CHECK(scan.framing == BodyFraming::kLength);
  CHECK_EQ(scan.facts.content_length, 5u);
}

TEST("a resumed scan refuses malformed heads with the error, and at the byte, of a one-shot parse") {
  const std::string inputs[] = {
      "\r\n\r\nPOST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: close\r\n"
      "Expect: 100-continue\r\nX:  v \r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nA : b\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.5\r\n\r\n",
      "GET / XTTP/1.1\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET http://h:8/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET ftp://h/p HTTP/1.1\r\nHost: h\r\n\r\n",
  };
  for (const std::string& s : inputs) {
    bool agrees = false;
    FeedBytewise(s, &agrees);
    CHECK(agrees);
  }
  HttpParseOptions small;
  small.max_head_size = 64;
  small.max_target_len = 32;
  bool agrees = false;
  FeedBytewise("GET /" + std::string(40, 'a') + " HTTP/1.1\r\n\r\n", &agrees, small);
  CHECK(agrees);
  FeedBytewise("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(80, 'v') + "\r\n\r\n", &agrees, small);
  CHECK(agrees);
}

// Copies the input so that it ends right before a PROT_NONE page: any read past len faults.
TEST("never reads past the end of the input (guard page, every prefix)") {
  long page = sysconf(_SC_PAGESIZE);
  char* mem =
      static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK(mem != MAP_FAILED);
  if (mem == MAP_FAILED) return;
  CHECK_EQ(mprotect(mem + page, page, PROT_NONE), 0);
  const std::string inputs[] = {
      "\r\n\r\nPOST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: close\r\n"
      "Expect: 100-continue\r\nX:  v \r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
      "GET / HTTP/1.1\r",
      "GET / HTTP/1.1\r\nA\r",
  };
  for (const std::string& s : inputs) {
    for (size_t n = 0; n <= s.size(); n++) {
      char* start = mem + page - n;
      std::memcpy(start, s.data(), n);
      ErrorCode err;
      int64_t rc = ParseHttpRequestHead(start, n, HttpParseOptions(), &g_head, &err);
      CHECK(rc <= static_cast<int64_t>(n));
    }
  }
  munmap(mem, 2 * page);
}

TEST_MAIN()

TEST("a scan that fills a head from its start forgets the Host, Expect and length of the head before") {
  // One HttpRequestHead serves every request of a thread (the router's scratch head): a head
  // without Host must not show the previous head's Host, whose bytes may have been freed.
  tsgi::HttpParseOptions opts;
  tsgi::HttpRequestHead head;
  ErrorCode err;
  std::string first =
      "POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\nUpgrade: x\r\n"
      "Connection: upgrade\r\n\r\n";
  tsgi::HttpHeadScan scan1;
  CHECK_EQ(ScanHttpRequestHead(first.data(), first.size(), opts, &scan1, &head, &err),
           static_cast<int64_t>(first.size()));
  CHECK_EQ(head.host_index, 0);
  std::string second = "GET / HTTP/1.0\r\n\r\n";
  tsgi::HttpHeadScan scan2;
  CHECK_EQ(ScanHttpRequestHead(second.data(), second.size(), opts, &scan2, &head, &err),
           static_cast<int64_t>(second.size()));
  CHECK_EQ(head.host_index, -1);
  CHECK_EQ(head.num_headers, 0u);
  CHECK(!head.expect_continue);
  CHECK(!head.upgrade);
  CHECK_EQ(head.content_length, 0u);
  CHECK(head.framing == BodyFraming::kNone);
}
