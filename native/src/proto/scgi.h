// SCGI (the SCGI protocol specification, Neil Schemenauer, 2006; docs/protocol-scgi.md): a
// request is a netstring "<length>:<headers>," whose headers are NUL-terminated name and value
// strings, CONTENT_LENGTH first and SCGI with the value "1" among them, followed by exactly
// CONTENT_LENGTH body bytes. The response is CGI-style and the connection ends it.
// Pure functions over byte spans; spans point into the caller's buffer.
#ifndef TSGI_PROTO_SCGI_H_
#define TSGI_PROTO_SCGI_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "common/span.h"
#include "proto/uwsgi.h"

namespace tsgi {

// Digits a netstring length may have before its ':' (a header block is at most buffer-size,
// far below 10^9).
constexpr size_t kScgiMaxLengthDigits = 9;

struct ScgiRequestHead {
  const char* block = nullptr;  // the headers, inside the caller's buffer
  size_t block_len = 0;
  size_t num_vars = 0;
  uint64_t content_length = 0;
};

// Parses the netstring at buf[0..len). Returns its size (length prefix, ':', headers, ','),
// 0 when more bytes are needed, -1 with *err set otherwise:
//   SCGI_BAD_NETSTRING   length not digits (a leading zero only for "0"), no ':' after at
//                        most kScgiMaxLengthDigits digits, or no ',' after the headers;
//   SCGI_BLOCK_TOO_LARGE headers longer than max_block (checked as soon as the length is read);
//   SCGI_BAD_HEADERS     a name or value without its NUL, or a name with no value;
//   SCGI_EMPTY_NAME, SCGI_TOO_MANY_VARS (more than max_vars pairs);
//   SCGI_CONTENT_LENGTH_NOT_FIRST, SCGI_BAD_CONTENT_LENGTH (not decimal digits; an empty
//                        value too), SCGI_NO_SCGI_HEADER (no SCGI=1).
// vars[] gets the pairs in block order (duplicates kept), CONTENT_LENGTH included.
int64_t ParseScgiRequest(const char* buf, size_t len, size_t max_block, UwsgiVar* vars, size_t max_vars,
                         ScgiRequestHead* out, ErrorCode* err);

}  // namespace tsgi

#endif  // TSGI_PROTO_SCGI_H_
