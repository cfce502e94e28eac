#include "common/sha1.h"

#include <cstring>

namespace tsgi {

namespace {

inline uint32_t Rol(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

// Initial hash value, FIPS 180-4 section 5.3.1.
Sha1::Sha1() : h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u} {}

// FIPS 180-4 section 6.1.2: the message schedule and 80 rounds over one 512-bit block.
void Sha1::Block(const uint8_t* p) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) {
    w[t] = (static_cast<uint32_t>(p[4 * t]) << 24) | (static_cast<uint32_t>(p[4 * t + 1]) << 16) |
           (static_cast<uint32_t>(p[4 * t + 2]) << 8) | static_cast<uint32_t>(p[4 * t + 3]);
  }
  for (int t = 16; t < 80; t++) w[t] = Rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) ^ (~b & d);  // Ch
      k = 0x5A827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;  // Parity
      k = 0x6ED9EBA1u;
    } else if (t < 60) {
      f = (b & c) ^ (b & d) ^ (c & d);  // Maj
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    uint32_t tmp = Rol(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = Rol(b, 30);
    b = a;
    a = tmp;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::Update(const void* data, size_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_ += len;
  while (len > 0) {
    if (buf_len_ == 0 && len >= 64) {
      Block(p);
      p += 64;
      len -= 64;
      continue;
    }
    size_t n = 64 - buf_len_;
    if (n > len) n = len;
    std::memcpy(buf_ + buf_len_, p, n);
    buf_len_ += n;
    p += n;
    len -= n;
    if (buf_len_ == 64) {
      Block(buf_);
      buf_len_ = 0;
    }
  }
}

// Padding, FIPS 180-4 section 5.1.1: a 1 bit, zeros, the 64-bit big-endian bit length.
void Sha1::Final(uint8_t digest[kSha1DigestSize]) {
  uint64_t bits = total_ * 8;
  uint8_t pad[72] = {0x80};
  size_t padlen = (buf_len_ < 56) ? 56 - buf_len_ : 120 - buf_len_;
  Update(pad, padlen);
  uint8_t len_be[8];
  for (int i = 0; i < 8; i++) len_be[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  Update(len_be, 8);
  for (int i = 0; i < 5; i++) {
    digest[4 * i] = static_cast<uint8_t>(h_[i] >> 24);
    digest[4 * i + 1] = static_cast<uint8_t>(h_[i] >> 16);
    digest[4 * i + 2] = static_cast<uint8_t>(h_[i] >> 8);
    digest[4 * i + 3] = static_cast<uint8_t>(h_[i]);
  }
}

void Sha1Digest(const void* data, size_t len, uint8_t digest[kSha1DigestSize]) {
  Sha1 s;
  s.Update(data, len);
  s.Final(digest);
}

void Base64Encode(const uint8_t* data, size_t len, char* out) {
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v =
        (static_cast<uint32_t>(data[i]) << 16) | (static_cast<uint32_t>(data[i + 1]) << 8) | data[i + 2];
    *out++ = kB64[(v >> 18) & 63];
    *out++ = kB64[(v >> 12) & 63];
    *out++ = kB64[(v >> 6) & 63];
    *out++ = kB64[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16;
    *out++ = kB64[(v >> 18) & 63];
    *out++ = kB64[(v >> 12) & 63];
    *out++ = '=';
    *out++ = '=';
  } else if (len - i == 2) {
    uint32_t v = (static_cast<uint32_t>(data[i]) << 16) | (static_cast<uint32_t>(data[i + 1]) << 8);
    *out++ = kB64[(v >> 18) & 63];
    *out++ = kB64[(v >> 12) & 63];
    *out++ = kB64[(v >> 6) & 63];
    *out++ = '=';
  }
}

long Base64Decode(const char* in, size_t len, uint8_t* out, size_t cap) {
  if (len % 4 != 0) return -1;
  size_t n = 0;
  for (size_t i = 0; i < len; i += 4) {
    bool last = i + 4 == len;
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; j++) {
      unsigned char c = static_cast<unsigned char>(in[i + j]);
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad > 0) return -1;  // data after '='
      v[j] = B64Value(c);
      if (v[j] < 0) return -1;
    }
    uint32_t bits = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                    (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    size_t bytes = 3 - static_cast<size_t>(pad);
    if (n + bytes > cap) return -1;
    out[n++] = static_cast<uint8_t>(bits >> 16);
    if (bytes > 1) out[n++] = static_cast<uint8_t>(bits >> 8);
    if (bytes > 2) out[n++] = static_cast<uint8_t>(bits);
  }
  return static_cast<long>(n);
}

}  // namespace tsgi
