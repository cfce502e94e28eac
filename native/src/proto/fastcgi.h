// FastCGI 1.0 records (the FastCGI Specification, Open Market, 1996; docs/protocol-fastcgi.md):
// an 8-byte header (version 1, type, big-endian requestId, big-endian contentLength,
// paddingLength, reserved), then contentLength bytes of content and paddingLength bytes of
// padding. Name-value pairs (the PARAMS stream, GET_VALUES) carry each length in 1 byte when
// it is below 128, else in 4 bytes with the high bit set (spec section 3.4).
// Pure functions over byte spans: parsers point into the caller's buffer, encoders append to
// a caller's string. Which records are expected when is the socket layer's business
// (loop/fastcgi.cc).
#ifndef TSGI_PROTO_FASTCGI_H_
#define TSGI_PROTO_FASTCGI_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.h"
#include "common/span.h"
#include "proto/uwsgi.h"

namespace tsgi {

constexpr size_t kFcgiHeaderSize = 8;
constexpr size_t kFcgiMaxContent = 65535;
constexpr uint8_t kFcgiVersion = 1;

// Record types (spec section 8).
enum FcgiType : uint8_t {
  kFcgiBeginRequest = 1,
  kFcgiAbortRequest = 2,
  kFcgiEndRequest = 3,
  kFcgiParams = 4,
  kFcgiStdin = 5,
  kFcgiStdout = 6,
  kFcgiStderr = 7,
  kFcgiData = 8,
  kFcgiGetValues = 9,
  kFcgiGetValuesResult = 10,
  kFcgiUnknownType = 11,
};

constexpr uint16_t kFcgiRoleResponder = 1;
constexpr uint8_t kFcgiKeepConn = 1;

// END_REQUEST protocolStatus values.
enum FcgiProtocolStatus : uint8_t {
  kFcgiRequestComplete = 0,
  kFcgiCantMpxConn = 1,
  kFcgiOverloaded = 2,
  kFcgiUnknownRole = 3,
};

struct FcgiRecordHeader {
  uint8_t version = 0;
  uint8_t type = 0;
  uint16_t request_id = 0;
  uint16_t content_length = 0;
  uint8_t padding_length = 0;
};

// Reads the header from the first 8 bytes. Returns false when len < 8. The version is
// returned as sent; the caller refuses anything but 1 (FCGI_BAD_VERSION).
bool ParseFcgiRecordHeader(const char* buf, size_t len, FcgiRecordHeader* out);

// Header + content + padding.
inline size_t FcgiRecordSize(const FcgiRecordHeader& h) {
  return kFcgiHeaderSize + h.content_length + h.padding_length;
}

struct FcgiBeginRequest {
  uint16_t role = 0;
  uint8_t flags = 0;  // kFcgiKeepConn
};

// The content of a BEGIN_REQUEST record: exactly 8 bytes (role, flags, 5 reserved), else
// FCGI_BAD_BEGIN_REQUEST.
ErrorCode ParseFcgiBeginRequest(const char* content, size_t len, FcgiBeginRequest* out);

// Parses a complete name-value pair stream (exactly `len` bytes: the PARAMS contents joined,
// or one GET_VALUES record's content) into the key/value spans the uwsgi parser also gives,
// so one environ builder serves both. Up to max_vars pairs in stream order (duplicates kept);
// errors: FCGI_TRUNCATED_PARAM (a length or value overrunning the stream), FCGI_EMPTY_NAME,
// FCGI_TOO_MANY_PARAMS. Empty values are allowed (GET_VALUES sends only empty ones).
ErrorCode ParseFcgiParams(const char* block, size_t len, UwsgiVar* vars, size_t max_vars, size_t* num_vars);

// Appends one record header.
void AppendFcgiHeader(std::string* out, uint8_t type, uint16_t request_id, uint16_t content_length,
                      uint8_t padding_length = 0);

// Appends `len` bytes as records of `type` for `request_id`, each at most kFcgiMaxContent
// bytes, without padding. Nothing for len == 0: the empty record that ends a stream is the
// caller's (AppendFcgiHeader with length 0).
void AppendFcgiStream(std::string* out, uint8_t type, uint16_t request_id, const char* data, size_t len);

// Appends END_REQUEST for `request_id`.
void AppendFcgiEndRequest(std::string* out, uint16_t request_id, uint32_t app_status,
                          uint8_t protocol_status);

// Appends UNKNOWN_TYPE naming `type` (a management record this side does not know).
void AppendFcgiUnknownType(std::string* out, uint8_t type);

// Appends one name-value pair in the 1- or 4-byte length encoding.
void AppendFcgiNameValue(std::string* out, Span name, Span value);

// What GET_VALUES may ask of this side (spec section 4.1).
struct FcgiLimits {
  uint32_t max_conns = 0;
  uint32_t max_reqs = 0;
  bool mpxs_conns = false;
};

// Appends the GET_VALUES_RESULT record answering `asked` (the pairs of a GET_VALUES
// record): FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS get their values, other names
// are left out, as the specification asks.
void AppendFcgiGetValuesResult(std::string* out, const UwsgiVar* asked, size_t n, const FcgiLimits& limits);

}  // namespace tsgi

#endif  // TSGI_PROTO_FASTCGI_H_
