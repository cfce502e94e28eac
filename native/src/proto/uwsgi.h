// The uwsgi binary protocol (docs/protocol-uwsgi.md; uWSGI docs, "The uwsgi Protocol"):
// a 4-byte header (modifier1, little-endian uint16 datasize, modifier2) and a vars block of
// [u16le keylen][key][u16le vallen][value] pairs that ends exactly at datasize.
// Pure functions over byte spans; spans point into the caller's buffer.
#ifndef TSGI_PROTO_UWSGI_H_
#define TSGI_PROTO_UWSGI_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "common/span.h"

namespace tsgi {

constexpr size_t kUwsgiHeaderSize = 4;
constexpr uint8_t kUwsgiModifierPing = 100;

struct UwsgiHeader {
  uint8_t modifier1 = 0;
  uint16_t datasize = 0;  // length of the vars block only; the body follows it
  uint8_t modifier2 = 0;
};

struct UwsgiVar {
  Span key;    // never empty
  Span value;  // may be empty
};

// Reads the header from the first 4 bytes. Returns false when len < 4.
bool ParseUwsgiHeader(const char* buf, size_t len, UwsgiHeader* out);

// Parses a complete vars block (exactly `len` bytes). Writes up to max_vars entries to
// vars[] in packet order (duplicates are kept; the consumer lets the last one win) and their
// count to *num_vars. Errors: UWSGI_EMPTY_KEY, UWSGI_TRUNCATED_VAR (a length or value
// overrunning the block, a key with no value length after it, 1-2 trailing bytes),
// UWSGI_TOO_MANY_VARS.
ErrorCode ParseUwsgiVars(const char* block, size_t len, UwsgiVar* vars, size_t max_vars, size_t* num_vars);

// Strict CONTENT_LENGTH: empty means 0; otherwise decimal digits only, leading zeros allowed,
// at most 2^64 - 1 (ParseDecimalLength, the HTTP Content-Length rule). Returns false on any
// other byte or on overflow.
bool ParseUwsgiContentLength(Span value, uint64_t* out);

// Encodes a vars block (test helper and future router). Two passes as nginx does: returns the
// exact size needed; writes only when out_cap is large enough. Returns 0 if the block would
// exceed 65535 bytes or a key/value exceeds 65535.
size_t EncodeUwsgiPacket(uint8_t modifier1, uint8_t modifier2, const UwsgiVar* vars, size_t num_vars,
                         char* out, size_t out_cap);

}  // namespace tsgi

#endif  // TSGI_PROTO_UWSGI_H_
