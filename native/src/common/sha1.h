// SHA-1 (FIPS 180-4 section 6.1) and base64 (RFC 4648 section 4), only as much as the
// WebSocket opening handshake needs (RFC 6455 section 4.2.2: Sec-WebSocket-Accept is the
// base64 of the SHA-1 of the key and a fixed GUID). SHA-1 is not used here for security: the
// accept value only proves the server read the handshake. No OpenSSL, no allocation.
#ifndef TSGI_COMMON_SHA1_H_
#define TSGI_COMMON_SHA1_H_

#include <cstddef>
#include <cstdint>

namespace tsgi {

constexpr size_t kSha1DigestSize = 20;

// Incremental SHA-1: Update any number of times, then Final once.
class Sha1 {
 public:
  Sha1();
  void Update(const void* data, size_t len);
  void Final(uint8_t digest[kSha1DigestSize]);

 private:
  void Block(const uint8_t* p);
  uint32_t h_[5];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes
};

// One-shot SHA-1.
void Sha1Digest(const void* data, size_t len, uint8_t digest[kSha1DigestSize]);

// Base64 length (with padding) of n bytes.
constexpr size_t Base64EncodedSize(size_t n) {
  return (n + 2) / 3 * 4;
}

// Writes the padded base64 of `len` bytes to `out` (Base64EncodedSize(len) bytes, no NUL).
void Base64Encode(const uint8_t* data, size_t len, char* out);

// Strict decoding of padded base64 (RFC 4648 section 4): length a multiple of 4, only the
// alphabet, '=' only as the final one or two characters. Writes at most `cap` bytes to `out`
// and returns the decoded size, or -1 when the input is not base64 or does not fit. Bits left
// over in the last character are ignored, as most decoders do (RFC 4648 section 3.5 lets them).
long Base64Decode(const char* in, size_t len, uint8_t* out, size_t cap);

}  // namespace tsgi

#endif  // TSGI_COMMON_SHA1_H_
