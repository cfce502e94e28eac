// The uwsgi packet parser and encoder (docs/protocol-uwsgi.md, "The packet"). Everything here
// is a pure function over caller-owned bytes: no allocation, no I/O, no globals. The socket
// layer decides what to do with a parsed packet (buffer-size limit, modifier policy, magic
// vars); see docs/protocol-uwsgi.md.
#include "proto/uwsgi.h"

#include <cstring>

#include "proto/http1.h"

namespace tsgi {

namespace {

// Every length on the wire is a little-endian uint16, whatever the host byte order
// (uWSGI's proto/uwsgi.c byte-swaps on big-endian hosts; nginx writes low byte first).
inline uint16_t ReadU16le(const char* p) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}

inline void WriteU16le(char* p, size_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>((v >> 8) & 0xff);
}

constexpr size_t kMaxU16 = 65535;

}  // namespace

bool ParseUwsgiHeader(const char* buf, size_t len, UwsgiHeader* out) {
  if (len < kUwsgiHeaderSize) return false;
  out->modifier1 = static_cast<uint8_t>(buf[0]);
  out->datasize = ReadU16le(buf + 1);
  out->modifier2 = static_cast<uint8_t>(buf[3]);
  return true;
}

// The acceptance rules are those of uWSGI 2.0's core/protocol.c uwsgi_parse_vars, restated
// with explicit bounds (docs/protocol-uwsgi.md, "What is accepted"):
//   - a new pair needs at least 3 bytes (key length + one key byte); 1 or 2 trailing bytes
//     are a truncated var, even "00 00";
//   - a key length of 0 is refused;
//   - the key must be followed by a complete 2-byte value length inside the block (a key
//     that ends exactly at the block end has no value length: truncated);
//   - a value may be empty, also as the very last item, but must not overrun the block.
// Every offset below is checked against `remaining` before it is read, so the parser never
// touches block[len] or beyond.
ErrorCode ParseUwsgiVars(const char* block, size_t len, UwsgiVar* vars, size_t max_vars, size_t* num_vars) {
  size_t pos = 0;
  size_t count = 0;
  *num_vars = 0;
  while (pos < len) {
    size_t remaining = len - pos;
    if (remaining < 3) return ErrorCode::UWSGI_TRUNCATED_VAR;
    size_t keylen = ReadU16le(block + pos);
    if (keylen == 0) return ErrorCode::UWSGI_EMPTY_KEY;
    // 2 (key length) + keylen + 2 (value length) must fit.
    if (keylen + 4 > remaining) return ErrorCode::UWSGI_TRUNCATED_VAR;
    const char* key = block + pos + 2;
    size_t vallen = ReadU16le(key + keylen);
    if (keylen + 4 + vallen > remaining) return ErrorCode::UWSGI_TRUNCATED_VAR;
    if (count == max_vars) return ErrorCode::UWSGI_TOO_MANY_VARS;
    vars[count].key = Span{key, keylen};
    vars[count].value = Span{key + keylen + 2, vallen};
    count++;
    pos += keylen + 4 + vallen;
  }
  *num_vars = count;
  return ErrorCode::OK;
}

// uWSGI reads CONTENT_LENGTH as a digit prefix with no overflow check ("12abc" -> 12,
// "-1" -> 0; get_content_length in core/protocol.c), which lets a front-end and the server
// disagree about where the body ends. We accept only what nginx produces: nothing, or plain
// digits, read by the same rule as the HTTP Content-Length header (proto/http1.h), so a
// value that --http-socket accepts is accepted when a front end forwards it over uwsgi too
// (leading zeros included; docs/http.md, "Request targets and number spellings").
bool ParseUwsgiContentLength(Span value, uint64_t* out) {
  if (value.len == 0) {
    *out = 0;
    return true;
  }
  return ParseDecimalLength(value, out);
}

// Pass one sums the sizes (as nginx's ngx_http_uwsgi_create_request does before it allocates);
// pass two writes only if the caller's buffer holds the whole packet, so a short buffer is
// never partly written. An empty key is refused because no parser would accept it back.
size_t EncodeUwsgiPacket(uint8_t modifier1, uint8_t modifier2, const UwsgiVar* vars, size_t num_vars,
                         char* out, size_t out_cap) {
  size_t block = 0;
  for (size_t i = 0; i < num_vars; i++) {
    if (vars[i].key.len == 0 || vars[i].key.len > kMaxU16 || vars[i].value.len > kMaxU16) return 0;
    block += 4 + vars[i].key.len + vars[i].value.len;
    if (block > kMaxU16) return 0;
  }
  size_t total = kUwsgiHeaderSize + block;
  if (out == nullptr || out_cap < total) return total;
  out[0] = static_cast<char>(modifier1);
  WriteU16le(out + 1, block);
  out[3] = static_cast<char>(modifier2);
  char* p = out + kUwsgiHeaderSize;
  for (size_t i = 0; i < num_vars; i++) {
    WriteU16le(p, vars[i].key.len);
    std::memcpy(p + 2, vars[i].key.data, vars[i].key.len);
    p += 2 + vars[i].key.len;
    WriteU16le(p, vars[i].value.len);
    if (vars[i].value.len != 0) std::memcpy(p + 2, vars[i].value.data, vars[i].value.len);
    p += 2 + vars[i].value.len;
  }
  return total;
}

}  // namespace tsgi
