// Unit tests of native/src/proto/websocket.{h,cc} (RFC 6455, RFC 7692 negotiation, RFC 3629
// UTF-8) and native/src/common/sha1.{h,cc} (FIPS 180-4, RFC 4648). The frame examples are
// those of RFC 6455 section 5.7, byte for byte. Streams are fed to WsReader whole, split at
// every offset and one byte at a time, and must give the same events and the same error.
#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/sha1.h"
#include "harness.h"
#include "proto/websocket.h"

using namespace tsgi;

namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out += static_cast<char>(x);
  return out;
}

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

Span Sp(const char* s) {
  return Span{s, std::strlen(s)};
}

const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};  // the key of section 5.7's examples

// Writes events as text: "<T" / "<B" (+"z" compressed) begins a message, its data follows
// (consecutive pieces joined), ">" ends it, "[9:...]" is a control frame with its payload.
class Log : public WsSink {
 public:
  void OnMessageBegin(uint8_t opcode, bool compressed) override {
    s += opcode == kWsText ? "<T" : "<B";
    if (compressed) s += "z";
    s += ":";
  }
  void OnMessageData(const char* data, size_t len) override { s.append(data, len); }
  void OnMessageEnd() override { s += ">"; }
  void OnControl(uint8_t opcode, const char* payload, size_t len) override {
    s += "[" + std::to_string(opcode) + ":" + std::string(payload, len) + "]";
  }
  std::string s;
};

struct Result {
  ErrorCode err;
  std::string log;
  size_t consumed;
};

// Feeds `wire` in pieces cut at `cuts` (ascending offsets).
Result Feed(const std::string& wire, const WsFrameRules& rules, const std::vector<size_t>& cuts) {
  std::string buf = wire;
  WsReader r(rules);
  Log log;
  size_t at = 0, total = 0;
  ErrorCode e = ErrorCode::OK;
  std::vector<size_t> ends = cuts;
  ends.push_back(buf.size());
  for (size_t end : ends) {
    if (end < at) continue;
    size_t used = 0;
    e = r.Feed(&buf[0] + at, end - at, &log, &used);
    total += used;
    if (e != ErrorCode::OK || r.closed()) break;
    at = end;
  }
  return Result{e, log.s, total};
}

Result Whole(const std::string& wire, const WsFrameRules& rules) {
  return Feed(wire, rules, {});
}

WsFrameRules ServerRules(uint64_t max = 1 << 20, bool rsv1 = false) {
  WsFrameRules r;
  r.server = true;
  r.max_message_size = max;
  r.allow_rsv1 = rsv1;
  return r;
}

WsFrameRules ClientRules() {
  WsFrameRules r;
  r.server = false;
  return r;
}

// The whole-input result, after checking every 1-split, every 2-split at small offsets and
// byte-at-a-time feeding all agree with it (events compared up to the error, when there is
// one: data before a bad byte may or may not have been delivered, depending on the pieces).
std::string Prefix(const Result& r) {
  if (r.err == ErrorCode::OK) return r.log;
  size_t cut = r.log.find_last_of(">]");
  return cut == std::string::npos ? "" : r.log.substr(0, cut + 1);
}

Result AllSplits(const std::string& wire, const WsFrameRules& rules) {
  Result whole = Whole(wire, rules);
  bool same = true;
  auto cmp = [&](const Result& r) {
    if (r.err != whole.err || Prefix(r) != Prefix(whole)) same = false;
    if (whole.err == ErrorCode::OK && r.consumed != whole.consumed) same = false;
  };
  for (size_t i = 0; i <= wire.size(); i++) cmp(Feed(wire, rules, {i}));
  for (size_t i = 0; i <= wire.size() && i < 20; i++)
    for (size_t j = i; j <= wire.size() && j < 24; j++) cmp(Feed(wire, rules, {i, j}));
  std::vector<size_t> every;
  for (size_t i = 1; i < wire.size(); i++) every.push_back(i);
  cmp(Feed(wire, rules, every));
  CHECK(same);
  return whole;
}

std::string Masked(uint8_t opcode, bool fin, const std::string& payload, const uint8_t* key = kMask) {
  std::string out;
  AppendWsFrame(&out, opcode, fin, payload.data(), payload.size(), key);
  return out;
}

std::string Unmasked(uint8_t opcode, bool fin, const std::string& payload) {
  std::string out;
  AppendWsFrame(&out, opcode, fin, payload.data(), payload.size());
  return out;
}

ErrorCode HeaderErr(const std::string& bytes, const WsFrameRules& rules) {
  WsFrameHeader h;
  return ParseWsFrameHeader(bytes.data(), bytes.size(), rules, &h);
}

std::string Hex20(const uint8_t* d) {
  return Hex(std::string(reinterpret_cast<const char*>(d), 20));
}

}  // namespace

// ---- SHA-1 and base64 ----

TEST("SHA-1 gives the FIPS 180-4 example digests (empty, abc, the 448-bit message, a million a's)") {
  uint8_t d[20];
  Sha1Digest("", 0, d);
  CHECK_EQ(Hex20(d), std::string("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  Sha1Digest("abc", 3, d);
  CHECK_EQ(Hex20(d), std::string("a9993e364706816aba3e25717850c26c9cd0d89d"));
  const char* m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha1Digest(m, std::strlen(m), d);
  CHECK_EQ(Hex20(d), std::string("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
  Sha1 s;
  std::string a(1000, 'a');
  for (int i = 0; i < 1000; i++) s.Update(a.data(), a.size());
  s.Final(d);
  CHECK_EQ(Hex20(d), std::string("34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
}

TEST("SHA-1 fed in pieces equals SHA-1 of the whole, across the 55/56/64-byte padding edges") {
  for (size_t n : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000}) {
    std::string msg(n, 'x');
    for (size_t i = 0; i < n; i++) msg[i] = static_cast<char>(i * 7 + 3);
    uint8_t whole[20], parts[20];
    Sha1Digest(msg.data(), n, whole);
    Sha1 s;
    for (size_t i = 0; i < n; i += 13) s.Update(msg.data() + i, std::min<size_t>(13, n - i));
    s.Final(parts);
    CHECK(std::memcmp(whole, parts, 20) == 0);
  }
}

TEST("base64 encodes and decodes the RFC 4648 section 10 vectors") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; i++) {
    size_t n = std::strlen(plain[i]);
    std::string out(Base64EncodedSize(n), '?');
    Base64Encode(reinterpret_cast<const uint8_t*>(plain[i]), n, &out[0]);
    CHECK_EQ(out, std::string(enc[i]));
    uint8_t back[8];
    long m = Base64Decode(enc[i], std::strlen(enc[i]), back, sizeof back);
    CHECK_EQ(m, static_cast<long>(n));
    CHECK(std::string(reinterpret_cast<char*>(back), n) == plain[i]);
  }
}

TEST("base64 decoding refuses bad length, characters outside the alphabet, misplaced padding and overflow") {
  uint8_t out[16];
  CHECK_EQ(Base64Decode("Zg=", 3, out, 16), -1L);
  CHECK_EQ(Base64Decode("Zg=a", 4, out, 16), -1L);
  CHECK_EQ(Base64Decode("Z===", 4, out, 16), -1L);
  CHECK_EQ(Base64Decode("Zg==Zg==", 8, out, 16), -1L);
  CHECK_EQ(Base64Decode("Z-8=", 4, out, 16), -1L);
  CHECK_EQ(Base64Decode("Zm9v", 4, out, 2), -1L);
}

// ---- Handshake ----

namespace {
WsUpgradeRequest GoodUpgrade() {
  WsUpgradeRequest r;
  r.method = Sp("GET");
  r.upgrade = Sp("websocket");
  r.connection = Sp("Upgrade");
  r.key = Sp("dGhlIHNhbXBsZSBub25jZQ==");
  r.version = Sp("13");
  return r;
}
}  // namespace

// The value printed in RFC 6455 section 1.3 (and what `openssl sha1 -binary | base64` gives
// for key + GUID). "s3pPLMBiTxaQ9kg2EcV5DJ/KhuU=", sometimes quoted for this key, is not it.
TEST("the accept value for the RFC 6455 section 1.3 key is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
  char out[kWsAcceptSize];
  ComputeWsAccept(Sp("dGhlIHNhbXBsZSBub25jZQ=="), out);
  CHECK_EQ(std::string(out, kWsAcceptSize), std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
  ComputeWsAccept(Sp(" dGhlIHNhbXBsZSBub25jZQ==\t"), out);
  CHECK_EQ(std::string(out, kWsAcceptSize), std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

TEST("the 101 response carries Upgrade, Connection, the accept value and the extensions when given") {
  std::string out;
  AppendWsHandshakeResponse(&out, Sp("dGhlIHNhbXBsZSBub25jZQ=="), Span{});
  CHECK_EQ(out,
           std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
  out.clear();
  AppendWsHandshakeResponse(&out, Sp("dGhlIHNhbXBsZSBub25jZQ=="), Sp("permessage-deflate"));
  CHECK(out.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n") != std::string::npos);
}

TEST("a well-formed upgrade is accepted, with tokens in any case and among other list elements") {
  WsUpgradeRequest r = GoodUpgrade();
  CHECK(ValidateWsUpgrade(r) == ErrorCode::OK);
  r.upgrade = Sp("h2c, WebSocket");
  r.connection = Sp("keep-alive, , UPGRADE ");
  r.version = Sp(" 13 ");
  r.version_minor = 1;
  CHECK(ValidateWsUpgrade(r) == ErrorCode::OK);
}

TEST("a method other than GET is a 400 WS_BAD_METHOD") {
  WsUpgradeRequest r = GoodUpgrade();
  r.method = Sp("POST");
  CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_METHOD);
  r.method = Sp("get");
  CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_METHOD);
  CHECK_EQ(ErrorStatus(ErrorCode::WS_BAD_METHOD), 400);
}

TEST("HTTP/1.0 and HTTP/2 are a 400 WS_BAD_HTTP_VERSION") {
  WsUpgradeRequest r = GoodUpgrade();
  r.version_minor = 0;
  CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_HTTP_VERSION);
  r.version_major = 2;
  CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_HTTP_VERSION);
}

TEST("an Upgrade header without the websocket token is a 400 WS_NO_UPGRADE_TOKEN") {
  WsUpgradeRequest r = GoodUpgrade();
  for (const char* u : {"", "h2c", "websocket/13", "websockets", "web socket"}) {
    r.upgrade = Sp(u);
    CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_NO_UPGRADE_TOKEN);
  }
  CHECK_EQ(ErrorStatus(ErrorCode::WS_NO_UPGRADE_TOKEN), 400);
}

TEST("a Connection header without the upgrade token is a 400 WS_NO_CONNECTION_UPGRADE") {
  WsUpgradeRequest r = GoodUpgrade();
  for (const char* c : {"", "keep-alive", "upgraded", "keep-alive upgrade"}) {
    r.connection = Sp(c);
    CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_NO_CONNECTION_UPGRADE);
  }
}

TEST("a version other than 13 is a 426 with Sec-WebSocket-Version: 13") {
  WsUpgradeRequest r = GoodUpgrade();
  for (const char* v : {"", "8", "12", "14", "13, 8", "013"}) {
    r.version = Sp(v);
    CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_VERSION);
  }
  CHECK_EQ(ErrorStatus(ErrorCode::WS_BAD_VERSION), 426);
  CHECK_EQ(std::string(WsHandshakeErrorHeaders(ErrorCode::WS_BAD_VERSION)),
           std::string("Sec-WebSocket-Version: 13\r\n"));
  CHECK_EQ(std::string(WsHandshakeErrorHeaders(ErrorCode::WS_BAD_KEY)), std::string(""));
}

TEST("the error response is a whole HTTP/1.1 response: 426 with the version header, else 400") {
  std::string out;
  AppendWsHandshakeError(&out, ErrorCode::WS_BAD_VERSION);
  CHECK_EQ(out, std::string("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                            "Content-Type: text/plain\r\nContent-Length: 32\r\nConnection: close\r\n\r\n"
                            "Sec-WebSocket-Version is not 13\n"));
  out.clear();
  AppendWsHandshakeError(&out, ErrorCode::WS_BAD_KEY);
  CHECK(out.rfind("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n", 0) == 0);
  CHECK(out.find("Sec-WebSocket-Version") == std::string::npos);
}

TEST("a key that is not base64 of exactly 16 bytes is a 400 WS_BAD_KEY, a repeated key included") {
  WsUpgradeRequest r = GoodUpgrade();
  for (const char* k : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
                        "dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25jZXM=", "dGhlIHNhbXBsZSBub25j*Q==",
                        "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAAA"}) {
    r.key = Sp(k);
    CHECK(ValidateWsUpgrade(r) == ErrorCode::WS_BAD_KEY);
  }
  r.key = Sp("AAAAAAAAAAAAAAAAAAAAAA==");
  CHECK(ValidateWsUpgrade(r) == ErrorCode::OK);
}

// ---- permessage-deflate offers (RFC 7692) ----

namespace {
std::vector<WsDeflateOffer> Offers(const char* header, ErrorCode* err = nullptr) {
  WsDeflateOffer out[kWsMaxDeflateOffers];
  size_t n = 99;
  ErrorCode e = ParseWsDeflateOffers(Sp(header), out, kWsMaxDeflateOffers, &n);
  if (err != nullptr) *err = e;
  return std::vector<WsDeflateOffer>(out, out + (e == ErrorCode::OK ? n : 0));
}
std::string Response(const WsDeflateOffer& o, bool snct = false) {
  std::string s;
  AppendWsDeflateResponse(&s, o, snct);
  return s;
}
}  // namespace

TEST("a bare permessage-deflate offer parses with no parameters and is answered as is") {
  auto o = Offers("permessage-deflate");
  CHECK_EQ(o.size(), size_t{1});
  CHECK(!o[0].server_no_context_takeover && !o[0].client_no_context_takeover);
  CHECK(o[0].server_max_window_bits == 0 && !o[0].client_max_window_bits);
  CHECK_EQ(Response(o[0]), std::string("permessage-deflate"));
  CHECK_EQ(Response(o[0], true), std::string("permessage-deflate; server_no_context_takeover"));
}

TEST("every permessage-deflate parameter is read, quoted values included, and echoed in the response") {
  auto o = Offers(
      "permessage-deflate; server_no_context_takeover ;client_no_context_takeover; "
      "server_max_window_bits=10; "
      "client_max_window_bits=\"9\"");
  CHECK_EQ(o.size(), size_t{1});
  CHECK(o[0].server_no_context_takeover && o[0].client_no_context_takeover);
  CHECK_EQ(o[0].server_max_window_bits, 10);
  CHECK(o[0].client_max_window_bits);
  CHECK_EQ(o[0].client_max_window_bits_value, 9);
  CHECK_EQ(Response(o[0]),
           std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                       "server_max_window_bits=10; client_max_window_bits=9"));
}

TEST("client_max_window_bits without a value is noted but not named in the response") {
  auto o = Offers("permessage-deflate; client_max_window_bits");
  CHECK_EQ(o.size(), size_t{1});
  CHECK(o[0].client_max_window_bits);
  CHECK_EQ(o[0].client_max_window_bits_value, 0);
  CHECK_EQ(Response(o[0]), std::string("permessage-deflate"));
}

TEST("offers RFC 7692 says to decline are left out, the next acceptable one kept in order") {
  auto o = Offers(
      "permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits, "
      "permessage-deflate; server_max_window_bits=08, permessage-deflate; client_max_window_bits=7, "
      "permessage-deflate; foo, permessage-deflate; server_no_context_takeover=1, "
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover, x-webkit-deflate-frame, "
      "permessage-deflate; server_max_window_bits=15, permessage-deflate");
  CHECK_EQ(o.size(), size_t{2});
  if (o.size() == 2) {
    CHECK_EQ(o[0].server_max_window_bits, 15);
    CHECK_EQ(o[1].server_max_window_bits, 0);
  }
}

TEST("window bits 8 to 15 are accepted, with the extension name in any case") {
  for (int b = 8; b <= 15; b++) {
    std::string h = "PerMessage-Deflate; server_max_window_bits=" + std::to_string(b);
    auto o = Offers(h.c_str());
    CHECK_EQ(o.size(), size_t{1});
    if (!o.empty()) CHECK_EQ(o[0].server_max_window_bits, b);
  }
}

TEST("an empty header or one with only other extensions gives no offers") {
  CHECK(Offers("").empty());
  CHECK(Offers(" , ").empty());
  CHECK(Offers("x-foo; a=1; b=\"q\\\"s\"").empty());
}

TEST("a header that breaks the extension grammar is a 400 WS_BAD_EXTENSION_HEADER") {
  for (const char* h : {"permessage-deflate;", "permessage-deflate; =1", "permessage-deflate; a=", "; a",
                        "permessage-deflate x", "permessage-deflate; a=\"1", "permessage-deflate; a=\"1\\",
                        "permessage-deflate; a=1 2", "\"permessage-deflate\""}) {
    ErrorCode e = ErrorCode::OK;
    Offers(h, &e);
    CHECK(e == ErrorCode::WS_BAD_EXTENSION_HEADER);
  }
  CHECK_EQ(ErrorStatus(ErrorCode::WS_BAD_EXTENSION_HEADER), 400);
}

TEST("no more offers than the caller has room for are written") {
  WsDeflateOffer out[2];
  size_t n = 0;
  CHECK(ParseWsDeflateOffers(Sp("permessage-deflate, permessage-deflate, permessage-deflate"), out, 2, &n) ==
        ErrorCode::OK);
  CHECK_EQ(n, size_t{2});
}

// ---- Frames: RFC 6455 section 5.7 examples ----

TEST("section 5.7: a single-frame unmasked text message Hello, read by a client") {
  std::string wire = Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  CHECK_EQ(Unmasked(kWsText, true, "Hello"), wire);
  Result r = AllSplits(wire, ClientRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<T:Hello>"));
  CHECK_EQ(r.consumed, wire.size());
  CHECK(Whole(wire, ServerRules()).err == ErrorCode::WS_UNMASKED_FRAME);
}

TEST("section 5.7: a single-frame masked text message Hello, read by a server") {
  std::string wire = Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  CHECK_EQ(Masked(kWsText, true, "Hello"), wire);
  Result r = AllSplits(wire, ServerRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<T:Hello>"));
  CHECK(Whole(wire, ClientRules()).err == ErrorCode::WS_MASKED_FRAME);
}

TEST("section 5.7: a fragmented unmasked text message Hel + lo") {
  std::string wire = Bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  CHECK_EQ(Unmasked(kWsText, false, "Hel") + Unmasked(kWsContinuation, true, "lo"), wire);
  Result r = AllSplits(wire, ClientRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<T:Hello>"));
}

TEST("section 5.7: an unmasked ping and a masked pong, both with body Hello") {
  std::string ping = Bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  std::string pong = Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  CHECK_EQ(Unmasked(kWsPing, true, "Hello"), ping);
  CHECK_EQ(Masked(kWsPong, true, "Hello"), pong);
  CHECK_EQ(AllSplits(ping, ClientRules()).log, std::string("[9:Hello]"));
  CHECK_EQ(AllSplits(pong, ServerRules()).log, std::string("[10:Hello]"));
}

TEST("section 5.7: 256 bytes of binary data in a single unmasked frame use the 16-bit length") {
  std::string data(256, '\0');
  for (int i = 0; i < 256; i++) data[i] = static_cast<char>(i);
  std::string wire = Unmasked(kWsBinary, true, data);
  CHECK_EQ(Hex(wire.substr(0, 4)), std::string("827e0100"));
  CHECK_EQ(wire.size(), size_t{260});
  Result r = AllSplits(wire, ClientRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK(r.log == "<B:" + data + ">");
}

TEST("section 5.7: 64 KiB of binary data in a single unmasked frame use the 64-bit length") {
  std::string data(65536, 'z');
  std::string wire = Unmasked(kWsBinary, true, data);
  CHECK_EQ(Hex(wire.substr(0, 10)), std::string("827f0000000000010000"));
  Result r = Whole(wire, ClientRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK(r.log == "<B:" + data + ">");
  std::vector<size_t> cuts;
  for (size_t i = 1; i < wire.size(); i += 997) cuts.push_back(i);
  CHECK(Feed(wire, ClientRules(), cuts).log == r.log);
}

TEST("lengths at the 7/16/64-bit edges encode minimally and parse back") {
  for (uint64_t n : {0ull, 125ull, 126ull, 127ull, 65535ull, 65536ull, 0x7fffffffffffffffull}) {
    std::string h;
    AppendWsFrameHeader(&h, kWsBinary, true, n, false, kMask);
    WsFrameRules rules = ServerRules(0);
    WsFrameHeader out;
    CHECK(ParseWsFrameHeader(h.data(), h.size(), rules, &out) == ErrorCode::OK);
    CHECK_EQ(out.header_size, h.size());
    CHECK_EQ(out.payload_length, n);
    CHECK_EQ(h.size(), size_t{n < 126 ? 6u : n < 65536 ? 8u : 14u});
    CHECK(std::memcmp(out.mask, kMask, 4) == 0);
    for (size_t i = 0; i < h.size(); i++) {
      WsFrameHeader part;
      CHECK(ParseWsFrameHeader(h.data(), i, rules, &part) == ErrorCode::OK);
      CHECK_EQ(part.header_size, size_t{0});
    }
  }
}

TEST("masked data of every length and starting offset unmasks to the original, pieces included") {
  for (size_t len = 0; len < 70; len++) {
    std::string data(len, '\0');
    for (size_t i = 0; i < len; i++) data[i] = static_cast<char>(i * 31 + 5);
    std::string wire = Masked(kWsBinary, true, data);
    std::string payload = wire.substr(wire.size() - len);
    for (size_t cut = 0; cut <= len; cut++) {
      std::string p = payload;
      UnmaskWsPayload(&p[0], cut, kMask, 0);
      UnmaskWsPayload(&p[0] + cut, len - cut, kMask, cut);
      CHECK(p == data);
    }
    // An odd start address: the 8-byte path must not need alignment.
    std::string shifted = "x" + payload;
    UnmaskWsPayload(&shifted[1], len, kMask, 0);
    CHECK(shifted.substr(1) == data);
  }
}

// ---- Frame errors ----

TEST("reserved opcodes 3-7 and 11-15 are WS_RESERVED_OPCODE, close code 1002, from the first byte") {
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    CHECK(HeaderErr(Bytes({0x80 | op}), ServerRules()) == ErrorCode::WS_RESERVED_OPCODE);
    CHECK(AllSplits(Masked(static_cast<uint8_t>(op), true, "x"), ServerRules()).err ==
          ErrorCode::WS_RESERVED_OPCODE);
  }
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_RESERVED_OPCODE), 1002);
}

TEST("RSV2 and RSV3 are always WS_RSV_BITS; RSV1 only passes on a first data frame once deflate is agreed") {
  CHECK(HeaderErr(Bytes({0xa1}), ServerRules(0, true)) == ErrorCode::WS_RSV_BITS);
  CHECK(HeaderErr(Bytes({0x91}), ServerRules(0, true)) == ErrorCode::WS_RSV_BITS);
  CHECK(HeaderErr(Bytes({0xc1}), ServerRules()) == ErrorCode::WS_RSV_BITS);
  CHECK(HeaderErr(Bytes({0xc1}), ServerRules(0, true)) == ErrorCode::OK);
  CHECK(HeaderErr(Bytes({0xc2}), ServerRules(0, true)) == ErrorCode::OK);
  CHECK(HeaderErr(Bytes({0xc0}), ServerRules(0, true)) == ErrorCode::WS_RSV_BITS);  // continuation
  CHECK(HeaderErr(Bytes({0xc9}), ServerRules(0, true)) == ErrorCode::WS_RSV_BITS);  // ping
  CHECK(HeaderErr(Bytes({0xc8}), ServerRules(0, true)) == ErrorCode::WS_RSV_BITS);  // close
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_RSV_BITS), 1002);
}

TEST("a compressed message is marked and its text is not UTF-8 checked before inflating") {
  std::string wire;
  AppendWsFrame(&wire, kWsText, false, "\xff", 1, kMask, true);
  AppendWsFrame(&wire, kWsContinuation, true, "\xfe", 1, kMask);
  Result r = AllSplits(wire, ServerRules(1 << 20, true));
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<Tz:\xff\xfe>"));
}

TEST("control frames without FIN are WS_CONTROL_FRAGMENTED") {
  for (int op : {8, 9, 10}) CHECK(HeaderErr(Bytes({op}), ServerRules()) == ErrorCode::WS_CONTROL_FRAGMENTED);
  CHECK(AllSplits(Masked(kWsPing, false, ""), ServerRules()).err == ErrorCode::WS_CONTROL_FRAGMENTED);
}

TEST("control payloads over 125 bytes are WS_CONTROL_TOO_LONG, judged from the 7-bit length") {
  CHECK(AllSplits(Masked(kWsPing, true, std::string(125, 'p')), ServerRules()).err == ErrorCode::OK);
  CHECK(AllSplits(Masked(kWsPing, true, std::string(126, 'p')), ServerRules()).err ==
        ErrorCode::WS_CONTROL_TOO_LONG);
  CHECK(HeaderErr(Bytes({0x88, 0xfe}), ServerRules()) == ErrorCode::WS_CONTROL_TOO_LONG);
  CHECK(HeaderErr(Bytes({0x8a, 0x7f}), ClientRules()) == ErrorCode::WS_CONTROL_TOO_LONG);
}

TEST("a server refuses unmasked frames and a client masked ones, from the second byte") {
  CHECK(HeaderErr(Bytes({0x81, 0x00}), ServerRules()) == ErrorCode::WS_UNMASKED_FRAME);
  CHECK(HeaderErr(Bytes({0x81, 0x80}), ClientRules()) == ErrorCode::WS_MASKED_FRAME);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_UNMASKED_FRAME), 1002);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_MASKED_FRAME), 1002);
}

TEST("lengths not in their minimal encoding are WS_NON_MINIMAL_LENGTH") {
  CHECK(HeaderErr(Bytes({0x82, 0xfe, 0x00, 0x7d}), ServerRules()) == ErrorCode::WS_NON_MINIMAL_LENGTH);
  CHECK(HeaderErr(Bytes({0x82, 0xfe, 0x00, 0x7e}), ServerRules()) == ErrorCode::OK);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff}), ServerRules()) ==
        ErrorCode::WS_NON_MINIMAL_LENGTH);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5}), ServerRules()) ==
        ErrorCode::WS_NON_MINIMAL_LENGTH);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0}), ServerRules()) == ErrorCode::OK);
  CHECK(AllSplits(Bytes({0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}), ServerRules()).err ==
        ErrorCode::WS_NON_MINIMAL_LENGTH);
}

TEST("a 64-bit length with the top bit set is WS_LENGTH_TOP_BIT as soon as its first byte is in") {
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0x80}), ServerRules(0)) == ErrorCode::WS_LENGTH_TOP_BIT);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ServerRules(0)) ==
        ErrorCode::WS_LENGTH_TOP_BIT);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0x7f}), ServerRules(0)) == ErrorCode::OK);
}

TEST(
    "a frame longer than the maximum message size is WS_FRAME_TOO_BIG, close code 1009, before its payload") {
  CHECK(AllSplits(Masked(kWsBinary, true, std::string(100, 'a')), ServerRules(100)).err == ErrorCode::OK);
  CHECK(AllSplits(Masked(kWsBinary, true, std::string(101, 'a')), ServerRules(100)).err ==
        ErrorCode::WS_FRAME_TOO_BIG);
  CHECK(HeaderErr(Bytes({0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ServerRules()) ==
        ErrorCode::WS_FRAME_TOO_BIG);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_FRAME_TOO_BIG), 1009);
}

// ---- Messages ----

TEST("a continuation frame with no message open is WS_UNEXPECTED_CONTINUATION, close code 1002") {
  CHECK(AllSplits(Masked(kWsContinuation, true, "x"), ServerRules()).err ==
        ErrorCode::WS_UNEXPECTED_CONTINUATION);
  std::string wire = Masked(kWsText, true, "a") + Masked(kWsContinuation, false, "b");
  Result r = AllSplits(wire, ServerRules());
  CHECK(r.err == ErrorCode::WS_UNEXPECTED_CONTINUATION);
  CHECK_EQ(r.log, std::string("<T:a>"));
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_UNEXPECTED_CONTINUATION), 1002);
}

TEST("a text or binary frame inside a fragmented message is WS_EXPECTED_CONTINUATION") {
  CHECK(AllSplits(Masked(kWsText, false, "a") + Masked(kWsText, true, "b"), ServerRules()).err ==
        ErrorCode::WS_EXPECTED_CONTINUATION);
  CHECK(AllSplits(Masked(kWsBinary, false, "a") + Masked(kWsText, true, "b"), ServerRules()).err ==
        ErrorCode::WS_EXPECTED_CONTINUATION);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_EXPECTED_CONTINUATION), 1002);
}

TEST("control frames interleave with the fragments of a message") {
  std::string wire = Masked(kWsText, false, "He") + Masked(kWsPing, true, "p1") +
                     Masked(kWsContinuation, false, "") + Masked(kWsPong, true, "") +
                     Masked(kWsContinuation, true, "llo") + Masked(kWsBinary, true, "");
  Result r = AllSplits(wire, ServerRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<T:He[9:p1][10:]llo><B:>"));
}

TEST("a message whose fragments pass the maximum size is WS_MESSAGE_TOO_BIG, close code 1009") {
  std::string ok =
      Masked(kWsBinary, false, std::string(60, 'a')) + Masked(kWsContinuation, true, std::string(40, 'b'));
  CHECK(AllSplits(ok, ServerRules(100)).err == ErrorCode::OK);
  std::string big = Masked(kWsBinary, false, std::string(60, 'a')) + Masked(kWsContinuation, false, "") +
                    Masked(kWsContinuation, true, std::string(41, 'b'));
  CHECK(AllSplits(big, ServerRules(100)).err == ErrorCode::WS_MESSAGE_TOO_BIG);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_MESSAGE_TOO_BIG), 1009);
  // The count starts again with the next message.
  CHECK(AllSplits(ok + ok, ServerRules(100)).err == ErrorCode::OK);
}

TEST("an error sticks: later feeds return it and consume nothing") {
  std::string wire = Masked(kWsContinuation, true, "x");
  WsReader r(ServerRules());
  Log log;
  size_t used = 7;
  CHECK(r.Feed(&wire[0], wire.size(), &log, &used) == ErrorCode::WS_UNEXPECTED_CONTINUATION);
  std::string more = Masked(kWsText, true, "a");
  CHECK(r.Feed(&more[0], more.size(), &log, &used) == ErrorCode::WS_UNEXPECTED_CONTINUATION);
  CHECK_EQ(used, size_t{0});
  CHECK(r.error() == ErrorCode::WS_UNEXPECTED_CONTINUATION);
}

// ---- UTF-8 ----

namespace {
// Text message in frames of the given sizes; returns the reader's result.
Result Text(const std::string& s, std::vector<size_t> frames = {}) {
  std::string wire;
  size_t at = 0;
  bool first = true;
  for (size_t n : frames) {
    wire += Masked(first ? kWsText : kWsContinuation, false, s.substr(at, n));
    at += n;
    first = false;
  }
  wire += Masked(first ? kWsText : kWsContinuation, true, s.substr(at));
  return AllSplits(wire, ServerRules());
}
}  // namespace

TEST("valid UTF-8 of every length passes, split across frames at every byte") {
  std::string s =
      "a\xc2\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf4\x8f\xbf\xbfz";
  CHECK(IsValidUtf8(s.data(), s.size()));
  CHECK(Text(s).err == ErrorCode::OK);
  for (size_t i = 0; i <= s.size(); i++) {
    Result r = Text(s, {i});
    CHECK(r.err == ErrorCode::OK);
    CHECK(r.log == "<T:" + s + ">");
  }
  // Kuhn's boundary characters: first and last of each length.
  for (const char* c : {"\x00", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf",
                        "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbe"}) {
    size_t n = c[0] == 0 ? 1 : std::strlen(c);
    CHECK(IsValidUtf8(c, n));
  }
}

TEST("overlong forms, surrogates, code points past U+10FFFF and stray bytes are invalid") {
  for (const char* c : {"\xc0\xaf",
                        "\xc1\xbf",
                        "\xe0\x80\xaf",
                        "\xe0\x9f\xbf",
                        "\xf0\x80\x80\xaf",
                        "\xf0\x8f\xbf\xbf",
                        "\xed\xa0\x80",
                        "\xed\xbf\xbf",
                        "\xed\xa0\x80\xed\xb0\x80",
                        "\xf4\x90\x80\x80",
                        "\xf5\x80\x80\x80",
                        "\xf8\x88\x80\x80\x80",
                        "\xfc\x84\x80\x80\x80\x80",
                        "\xfe",
                        "\xff",
                        "\x80",
                        "\xbf",
                        "\xc2\x41",
                        "\xe2\x82\x41",
                        "\xf0\x9f\x98\x41",
                        "\xc2\xc2\x80"}) {
    CHECK(!IsValidUtf8(c, std::strlen(c)));
    Result r = Text(c);
    CHECK(r.err == ErrorCode::WS_INVALID_UTF8);
  }
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_INVALID_UTF8), 1007);
}

TEST("a text message ending inside a character is WS_INVALID_UTF8 when its last frame ends") {
  for (const char* c : {"\xc2", "\xe2\x82", "\xf0\x9f\x98", "ab\xf4\x8f\xbf"}) {
    CHECK(!IsValidUtf8(c, std::strlen(c)));
    Result r = Text(c);
    CHECK(r.err == ErrorCode::WS_INVALID_UTF8);
    // Cut across frames: still fine until the message ends.
    std::string s = c;
    Result f = Text(s, {s.size() - 1});
    CHECK(f.err == ErrorCode::WS_INVALID_UTF8);
  }
  // A character split over a frame boundary is fine; binary messages are not checked.
  CHECK(Text("\xe2\x82\xac", {1, 1}).err == ErrorCode::OK);
  CHECK(AllSplits(Masked(kWsBinary, true, "\xff\xc2"), ServerRules()).err == ErrorCode::OK);
}

TEST("invalid UTF-8 is reported at the first bad byte, before the rest of the message arrives") {
  // Autobahn 6.4.x: the frame's first bytes already prove the text invalid.
  std::string s = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80";  // ...then 0xf4 0x90
  std::string wire = Masked(kWsText, true, s + "-edited");
  size_t bad = wire.size() - std::string("-edited").size() - 3;  // the 0x90 after 0xf4
  WsReader r(ServerRules());
  Log log;
  std::string buf = wire.substr(0, bad + 1);
  CHECK(r.Feed(&buf[0], buf.size(), &log) == ErrorCode::WS_INVALID_UTF8);
  buf = wire.substr(0, bad);
  WsReader r2(ServerRules());
  CHECK(r2.Feed(&buf[0], buf.size(), &log) == ErrorCode::OK);
}

TEST("the validator keeps its place across pieces and stays failed once failed") {
  WsUtf8Validator v;
  CHECK(v.Feed("\xf0", 1));
  CHECK(!v.AtBoundary());
  CHECK(v.Feed("\x9f\x98", 2));
  CHECK(v.Feed("\x80", 1));
  CHECK(v.AtBoundary());
  CHECK(!v.Feed("\xc0", 1));
  CHECK(v.failed());
  CHECK(!v.Feed("a", 1));
  std::string ascii(100, 'a');
  ascii[77] = '\x80';
  CHECK(!IsValidUtf8(ascii.data(), ascii.size()));
}

// ---- Close ----

TEST("close codes valid on the wire: 1000-1003, 1007-1011, 3000-4999") {
  for (int c = 0; c < 65536; c++) {
    bool want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);
    if (IsValidWsCloseCode(static_cast<uint16_t>(c)) != want) {
      CHECK(false);
      break;
    }
  }
  for (int c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    std::string p = Bytes({c >> 8, c & 0xff}) + "bye";
    uint16_t code = 0;
    Span reason;
    CHECK(ParseWsClosePayload(p.data(), p.size(), &code, &reason) == ErrorCode::OK);
    CHECK_EQ(code, c);
    CHECK_SPAN(reason, "bye");
  }
  for (int c : {0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    std::string p = Bytes({c >> 8, c & 0xff});
    uint16_t code = 0;
    Span reason;
    CHECK(ParseWsClosePayload(p.data(), p.size(), &code, &reason) == ErrorCode::WS_BAD_CLOSE_CODE);
    CHECK(AllSplits(Masked(kWsClose, true, p), ServerRules()).err == ErrorCode::WS_BAD_CLOSE_CODE);
  }
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_BAD_CLOSE_CODE), 1002);
}

TEST("an empty close payload means no status (1005); one byte is WS_BAD_CLOSE_PAYLOAD") {
  uint16_t code = 0;
  Span reason;
  CHECK(ParseWsClosePayload("", 0, &code, &reason) == ErrorCode::OK);
  CHECK_EQ(code, kWsCloseNoStatus);
  CHECK(ParseWsClosePayload("\x03", 1, &code, &reason) == ErrorCode::WS_BAD_CLOSE_PAYLOAD);
  CHECK(AllSplits(Masked(kWsClose, true, "\x03"), ServerRules()).err == ErrorCode::WS_BAD_CLOSE_PAYLOAD);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_BAD_CLOSE_PAYLOAD), 1002);
}

TEST("a close reason that is not UTF-8 is WS_INVALID_UTF8 (1007)") {
  std::string p = Bytes({0x03, 0xe8}) + "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80";
  uint16_t code = 0;
  Span reason;
  CHECK(ParseWsClosePayload(p.data(), p.size(), &code, &reason) == ErrorCode::WS_INVALID_UTF8);
  CHECK(AllSplits(Masked(kWsClose, true, p), ServerRules()).err == ErrorCode::WS_INVALID_UTF8);
}

TEST("after a close frame the reader stops: the bytes that follow are not read") {
  std::string wire = Masked(kWsText, true, "a") + Masked(kWsClose, true, Bytes({0x03, 0xe8}) + "ok");
  size_t close_end = wire.size();
  wire += Masked(kWsText, true, "never") + "\xff\xff";
  Result r = AllSplits(wire, ServerRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("<T:a>[8:\x03\xe8ok]"));
  CHECK_EQ(r.consumed, close_end);
}

TEST("close frames are built with the code and a reason cut at a character boundary") {
  std::string out;
  AppendWsCloseFrame(&out, 1000, Sp("bye"));
  CHECK_EQ(Hex(out), std::string("880503e8627965"));
  out.clear();
  AppendWsCloseFrame(&out, kWsCloseNoStatus, Sp("ignored"));
  CHECK_EQ(Hex(out), std::string("8800"));
  out.clear();
  std::string reason = std::string(122, 'r') + "\xe2\x82\xac";  // the euro sign straddles byte 123
  AppendWsCloseFrame(&out, 1001, Span{reason.data(), reason.size()});
  CHECK_EQ(out.size(), size_t{2 + 2 + 122});
  uint16_t code = 0;
  Span parsed;
  CHECK(ParseWsClosePayload(out.data() + 2, out.size() - 2, &code, &parsed) == ErrorCode::OK);
  CHECK_EQ(code, 1001);
  out.clear();
  AppendWsCloseFrame(&out, 1000, Sp("bye"), kMask);
  Result r = Whole(out, ServerRules());
  CHECK(r.err == ErrorCode::OK);
  CHECK_EQ(r.log, std::string("[8:\x03\xe8"
                              "bye]"));
}

TEST("handshake errors carry no close code and frame errors no 101-time status worth sending") {
  CHECK_EQ(WsCloseCodeFor(ErrorCode::WS_BAD_KEY), 0);
  CHECK_EQ(WsCloseCodeFor(ErrorCode::OK), 0);
  CHECK_EQ(std::string(ErrorName(ErrorCode::WS_INVALID_UTF8)), std::string("WS_INVALID_UTF8"));
}

// ---- Fixture replay ----
// test/fixtures/websocket/*.md (format in README.md there): the hex syntax of
// test/fixtures/uwsgi/README.md, with one line per event in the expect block.

namespace {

struct Fixture {
  std::string name;
  std::string hex, expect;
  bool client = false, deflate = false;
  uint64_t max_message_size = 16u << 20;
};

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      i++;
    } else {
      char c = static_cast<char>(std::strtol(s.substr(i + 2, 2).c_str(), nullptr, 16));
      i += 3;
      size_t count = 1;
      if (i + 1 < s.size() && s[i + 1] == '{') {
        size_t close = s.find('}', i);
        count = std::strtoul(s.substr(i + 2, close - i - 2).c_str(), nullptr, 10);
        i = close;
      }
      out.append(count, c);
    }
  }
  return out;
}

std::string ParseHex(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream toks(line);
    std::string tok;
    while (toks >> tok) {
      size_t brace = tok.find('{');
      std::string digits = tok.substr(0, brace);
      size_t count = brace != std::string::npos ? std::strtoul(tok.c_str() + brace + 1, nullptr, 10) : 1;
      std::string bytes;
      for (size_t i = 0; i + 1 < digits.size(); i += 2)
        bytes += static_cast<char>(std::strtol(digits.substr(i, 2).c_str(), nullptr, 16));
      for (size_t k = 0; k < count; k++) out += bytes;
    }
  }
  return out;
}

uint64_t MetaNumber(const std::string& line, const char* key, uint64_t fallback) {
  size_t at = line.find(std::string("\"") + key + "\"");
  if (at == std::string::npos) return fallback;
  return std::strtoull(line.c_str() + line.find(':', at) + 1, nullptr, 10);
}

std::vector<Fixture> ReadFixtures() {
  std::vector<Fixture> all;
  const std::string dir = "test/fixtures/websocket/";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return all;
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".md") == 0 && f != "README.md") files.push_back(f);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::ifstream in(dir + f);
    std::string line, *block = nullptr;
    int lineno = 0;
    while (std::getline(in, line)) {
      lineno++;
      if (line.rfind("## ", 0) == 0) {
        all.push_back(Fixture{});
        all.back().name = line.substr(3) + " (" + f + ":" + std::to_string(lineno) + ")";
      } else if (all.empty()) {
        continue;
      } else if (block != nullptr) {
        if (line.rfind("```", 0) == 0)
          block = nullptr;
        else
          *block += line + "\n";
      } else if (line == "```hex") {
        block = &all.back().hex;
      } else if (line == "```expect") {
        block = &all.back().expect;
      } else if (line.rfind("<!-- meta=", 0) == 0) {
        all.back().client = MetaNumber(line, "client", 0) != 0;
        all.back().deflate = MetaNumber(line, "deflate", 0) != 0;
        all.back().max_message_size = MetaNumber(line, "maxMessageSize", 16u << 20);
      }
    }
  }
  return all;
}

// Writes completed events one per line, raw bytes (the expect block is unescaped to match).
class FixtureLog : public WsSink {
 public:
  void OnMessageBegin(uint8_t opcode, bool compressed) override {
    cur = std::string(opcode == kWsText ? "text" : "binary") + (compressed ? "+deflate" : "") + "=";
  }
  void OnMessageData(const char* data, size_t len) override { cur.append(data, len); }
  void OnMessageEnd() override { out += cur + "\n"; }
  void OnControl(uint8_t opcode, const char* payload, size_t len) override {
    if (opcode == kWsClose) {
      uint16_t code = 0;
      Span reason;
      ParseWsClosePayload(payload, len, &code, &reason);
      out += "close=" + std::to_string(code) +
             (reason.len > 0 ? " " + std::string(reason.data, reason.len) : "") + "\n";
    } else {
      out += std::string(opcode == kWsPing ? "ping=" : "pong=") + std::string(payload, len) + "\n";
    }
  }
  std::string cur, out;
};

std::string Judge(const Fixture& fx, const std::string& wire, const std::vector<size_t>& cuts) {
  std::string buf = wire;
  WsFrameRules rules;
  rules.server = !fx.client;
  rules.allow_rsv1 = fx.deflate;
  rules.max_message_size = fx.max_message_size;
  WsReader r(rules);
  FixtureLog log;
  size_t at = 0, total = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(buf.size());
  for (size_t end : ends) {
    size_t used = 0;
    ErrorCode e = r.Feed(&buf[0] + at, end - at, &log, &used);
    total += used;
    if (e != ErrorCode::OK) return log.out + "error=" + ErrorName(e) + "\n";
    if (r.closed()) return log.out + "closed rest=" + std::to_string(wire.size() - total) + "\n";
    at = end;
  }
  return log.out + (r.idle() ? "ok\n" : "partial\n");
}

}  // namespace

TEST("every fixture in test/fixtures/websocket gives its expected events, whole and split anywhere") {
  std::vector<Fixture> all = ReadFixtures();
  CHECK(all.size() >= 30);
  for (const Fixture& fx : all) {
    std::string wire = ParseHex(fx.hex);
    std::string want;
    std::istringstream lines(fx.expect);
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) want += Unescape(line) + "\n";
    std::string got = Judge(fx, wire, {});
    bool ok = got == want;
    if (wire.size() <= 4096) {
      for (size_t i = 0; i <= wire.size() && ok; i++) ok = Judge(fx, wire, {i}) == want;
      std::vector<size_t> every;
      for (size_t i = 1; i < wire.size(); i++) every.push_back(i);
      if (ok) ok = Judge(fx, wire, every) == want;
    }
    if (!ok) {
      std::printf("# fixture failed: %s\n#   want: %s\n#   got:  %s\n", fx.name.c_str(), Hex(want).c_str(),
                  Hex(got).c_str());
      CHECK(false);
    }
  }
}

TEST_MAIN()
