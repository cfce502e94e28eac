// FastCGI record parser and encoder (docs/protocol-fastcgi.md). Pure: no allocation beyond
// the caller's output string, no I/O. Every offset is checked against the bytes left before
// it is read, so a parser never touches buf[len] or beyond.
#include "proto/fastcgi.h"

#include <cstdio>
#include <cstring>

namespace tsgi {

namespace {

// Multi-byte integers are big-endian on the wire (spec section 3.3: "B1<<8 + B0").
inline uint16_t ReadU16be(const char* p) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

// A pair length: one byte below 128, else four with the top bit as the marker (spec 3.4).
// Returns bytes used, 0 when the stream ends inside the length.
size_t ReadPairLength(const char* p, size_t left, size_t* out) {
  if (left < 1) return 0;
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  if ((u[0] & 0x80) == 0) {
    *out = u[0];
    return 1;
  }
  if (left < 4) return 0;
  *out = (static_cast<size_t>(u[0] & 0x7f) << 24) | (static_cast<size_t>(u[1]) << 16) |
         (static_cast<size_t>(u[2]) << 8) | u[3];
  return 4;
}

void AppendPairLength(std::string* out, size_t n) {
  if (n < 128) {
    out->push_back(static_cast<char>(n));
    return;
  }
  char b[4] = {static_cast<char>(((n >> 24) & 0x7f) | 0x80), static_cast<char>((n >> 16) & 0xff),
               static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  out->append(b, 4);
}

}  // namespace

bool ParseFcgiRecordHeader(const char* buf, size_t len, FcgiRecordHeader* out) {
  if (len < kFcgiHeaderSize) return false;
  out->version = static_cast<uint8_t>(buf[0]);
  out->type = static_cast<uint8_t>(buf[1]);
  out->request_id = ReadU16be(buf + 2);
  out->content_length = ReadU16be(buf + 4);
  out->padding_length = static_cast<uint8_t>(buf[6]);
  return true;
}

ErrorCode ParseFcgiBeginRequest(const char* content, size_t len, FcgiBeginRequest* out) {
  if (len != 8) return ErrorCode::FCGI_BAD_BEGIN_REQUEST;
  out->role = ReadU16be(content);
  out->flags = static_cast<uint8_t>(content[2]);
  return ErrorCode::OK;
}

ErrorCode ParseFcgiParams(const char* block, size_t len, UwsgiVar* vars, size_t max_vars, size_t* num_vars) {
  size_t pos = 0;
  size_t count = 0;
  *num_vars = 0;
  while (pos < len) {
    size_t name_len = 0, value_len = 0;
    size_t used = ReadPairLength(block + pos, len - pos, &name_len);
    if (used == 0) return ErrorCode::FCGI_TRUNCATED_PARAM;
    pos += used;
    used = ReadPairLength(block + pos, len - pos, &value_len);
    if (used == 0) return ErrorCode::FCGI_TRUNCATED_PARAM;
    pos += used;
    if (name_len == 0) return ErrorCode::FCGI_EMPTY_NAME;
    // Compared as differences so that a length near 2^31 cannot overflow pos.
    if (name_len > len - pos || value_len > len - pos - name_len) return ErrorCode::FCGI_TRUNCATED_PARAM;
    if (count == max_vars) return ErrorCode::FCGI_TOO_MANY_PARAMS;
    vars[count].key = Span{block + pos, name_len};
    vars[count].value = Span{block + pos + name_len, value_len};
    count++;
    pos += name_len + value_len;
  }
  *num_vars = count;
  return ErrorCode::OK;
}

void AppendFcgiHeader(std::string* out, uint8_t type, uint16_t request_id, uint16_t content_length,
                      uint8_t padding_length) {
  char h[kFcgiHeaderSize] = {static_cast<char>(kFcgiVersion),        static_cast<char>(type),
                             static_cast<char>(request_id >> 8),     static_cast<char>(request_id & 0xff),
                             static_cast<char>(content_length >> 8), static_cast<char>(content_length & 0xff),
                             static_cast<char>(padding_length),      0};
  out->append(h, kFcgiHeaderSize);
}

void AppendFcgiStream(std::string* out, uint8_t type, uint16_t request_id, const char* data, size_t len) {
  while (len > 0) {
    size_t n = len < kFcgiMaxContent ? len : kFcgiMaxContent;
    AppendFcgiHeader(out, type, request_id, static_cast<uint16_t>(n));
    out->append(data, n);
    data += n;
    len -= n;
  }
}

void AppendFcgiEndRequest(std::string* out, uint16_t request_id, uint32_t app_status,
                          uint8_t protocol_status) {
  AppendFcgiHeader(out, kFcgiEndRequest, request_id, 8);
  char b[8] = {static_cast<char>(app_status >> 24),
               static_cast<char>((app_status >> 16) & 0xff),
               static_cast<char>((app_status >> 8) & 0xff),
               static_cast<char>(app_status & 0xff),
               static_cast<char>(protocol_status),
               0,
               0,
               0};
  out->append(b, 8);
}

void AppendFcgiUnknownType(std::string* out, uint8_t type) {
  AppendFcgiHeader(out, kFcgiUnknownType, 0, 8);
  char b[8] = {static_cast<char>(type), 0, 0, 0, 0, 0, 0, 0};
  out->append(b, 8);
}

void AppendFcgiNameValue(std::string* out, Span name, Span value) {
  AppendPairLength(out, name.len);
  AppendPairLength(out, value.len);
  out->append(name.data, name.len);
  out->append(value.data, value.len);
}

void AppendFcgiGetValuesResult(std::string* out, const UwsgiVar* asked, size_t n, const FcgiLimits& limits) {
  size_t header_at = out->size();
  AppendFcgiHeader(out, kFcgiGetValuesResult, 0, 0);
  size_t content_at = out->size();
  for (size_t i = 0; i < n; i++) {
    Span name = asked[i].key;
    uint32_t v = 0;
    if (name.equals("FCGI_MAX_CONNS", 14))
      v = limits.max_conns;
    else if (name.equals("FCGI_MAX_REQS", 13))
      v = limits.max_reqs;
    else if (name.equals("FCGI_MPXS_CONNS", 15))
      v = limits.mpxs_conns ? 1 : 0;
    else
      continue;
    // Three known names, each answered at most as often as it is asked: a GET_VALUES record
    // holds at most 65535 bytes, so a hostile one repeating a name cannot make the answer
    // outgrow one record by much; it is cut at the record limit all the same.
    char digits[16];
    int len = snprintf(digits, sizeof digits, "%u", static_cast<unsigned>(v));
    if (out->size() - content_at + name.len + static_cast<size_t>(len) + 8 > kFcgiMaxContent) break;
    AppendFcgiNameValue(out, name, Span{digits, static_cast<size_t>(len)});
  }
  size_t content = out->size() - content_at;
  (*out)[header_at + 4] = static_cast<char>(content >> 8);
  (*out)[header_at + 5] = static_cast<char>(content & 0xff);
}

}  // namespace tsgi
