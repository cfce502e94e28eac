// HTTP/1.x response-head scanner (RFC 9112 section 4 and 6.3), used by the router to learn
// how a worker's response is framed so the client connection can stay open after it.
// A pure function over a byte span, like the request parser. It is lenient about what it
// does not need (header syntax is passed through untouched) and strict about what decides
// framing: a malformed or repeated Content-Length, or a Transfer-Encoding that does not end
// in chunked, makes the response close-delimited, never guessed.
#ifndef TSGI_PROTO_HTTP1_RESPONSE_H_
#define TSGI_PROTO_HTTP1_RESPONSE_H_

#include <cstddef>
#include <cstdint>

namespace tsgi {

enum class ResponseFraming : uint8_t {
  kNoBody,   // 1xx, 204, 304, or the answer to HEAD: the head is the whole response
  kLength,   // exactly content_length body bytes
  kChunked,  // chunked transfer coding, ends with the last-chunk
  kClose,    // delimited by the end of the connection (RFC 9112 6.3 item 8)
};

struct HttpResponseHead {
  uint8_t version_minor = 1;
  int status = 0;
  ResponseFraming framing = ResponseFraming::kClose;
  uint64_t content_length = 0;      // valid when framing == kLength
  bool connection_close = false;    // "Connection: close" present
  bool has_content_length = false;  // any Content-Length header, valid or not
  size_t headers_at = 0;            // offset just after the status line, where a header may be inserted
};

// Scans the response head at buf[0..len) (the answer to a request whose method was HEAD
// when `head_request`).
//   > 0  the head is complete; the value is its length including the final CRLF CRLF.
//   0    more bytes are needed.
//   < 0  not an HTTP/1.x response head (the bytes are relayed as they are, close-delimited).
int64_t ScanHttpResponseHead(const char* buf, size_t len, bool head_request, HttpResponseHead* out);

}  // namespace tsgi

#endif  // TSGI_PROTO_HTTP1_RESPONSE_H_
