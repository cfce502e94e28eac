// libFuzzer target for the WebSocket protocol layer (native/src/proto/websocket.h). The first
// input byte picks the rules (server or client side, RSV1 allowed, a small or large maximum
// message size), the next two seed the split points, the rest is what a peer sends. Checks:
//   - WsReader fed the stream whole and fed it in pieces cut at pseudo-random points gives
//     the same error, the same events up to the last complete message or control frame, and
//     (without error) consumes the same bytes; every piece is its own exact-size allocation,
//     so reading past one is an ASan report, and data spans must lie inside the piece;
//   - ParseWsFrameHeader over every prefix of the stream's first header either needs more
//     or gives the whole header's error, and is done at exactly the whole header's size;
//   - the UTF-8 validator agrees with a naive RFC 3629 decoder, whole and fed byte by byte;
//   - a close payload that parses is rebuilt by AppendWsCloseFrame into the same code and
//     reason; a frame built by AppendWsFrame (masked) reads back to its payload;
//   - the handshake and extension parsers take the bytes as header values without crashing,
//     and a rendered permessage-deflate response parses back as one offer.
// Seeds: test/fuzz/corpus/websocket/ (the RFC 6455 section 5.7 frames and error cases).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/websocket.h"

using namespace tsgi;

namespace {

// Completed messages and control frames go to `done`; the message under way to `cur`, its
// data pieces joined, so neither depends on where the input was cut.
class Recorder : public WsSink {
 public:
  const char* lo = nullptr;
  const char* hi = nullptr;
  std::string done;
  std::string cur;
  void OnMessageBegin(uint8_t opcode, bool compressed) override {
    if (!cur.empty()) std::abort();
    cur += '<';
    cur += static_cast<char>(opcode);
    cur += compressed ? 'z' : '-';
  }
  void OnMessageData(const char* data, size_t len) override {
    if (cur.empty() || len == 0 || data < lo || data + len > hi) std::abort();
    cur.append(data, len);
  }
  void OnMessageEnd() override {
    if (cur.empty()) std::abort();
    done += cur;
    done += '>';
    cur.clear();
  }
  void OnControl(uint8_t opcode, const char* payload, size_t len) override {
    if (len > kWsMaxControlPayload || !IsWsControl(opcode)) std::abort();
    done += '[';
    done += static_cast<char>(opcode);
    done += std::to_string(len);
    done += ':';
    done.append(payload, len);
  }
};

struct Outcome {
  ErrorCode err;
  std::string done;
  std::string cur;
  size_t consumed;
  bool closed;
};

Outcome Run(const uint8_t* wire, size_t len, const WsFrameRules& rules, const std::vector<size_t>& cuts) {
  WsReader reader(rules);
  Recorder rec;
  Outcome o{ErrorCode::OK, "", "", 0, false};
  size_t at = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(len);
  for (size_t end : ends) {
    if (end < at || end > len) continue;
    std::vector<char> piece(wire + at, wire + end);
    rec.lo = piece.data();
    rec.hi = piece.data() + piece.size();
    size_t used = 0;
    o.err = reader.Feed(piece.data(), piece.size(), &rec, &used);
    if (used > piece.size()) std::abort();
    o.consumed += used;
    if (o.err != ErrorCode::OK || reader.closed()) break;
    if (used != piece.size()) std::abort();
    at = end;
  }
  o.done = rec.done;
  o.cur = rec.cur;
  o.closed = reader.closed();
  return o;
}

bool RefUtf8(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t c = p[i];
    size_t k;
    uint32_t min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      k = 1, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3, min = 0x10000, c &= 0x07;
    } else {
      return false;
    }
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (p[i + j] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[i + j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    i += k + 1;
  }
  return true;
}

void CheckUtf8(const uint8_t* p, size_t n) {
  std::vector<char> copy(p, p + n);
  bool want = RefUtf8(p, n);
  if (IsValidUtf8(copy.data(), n) != want) std::abort();
  WsUtf8Validator v;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) ok = v.Feed(copy.data() + i, 1);
  if ((ok && v.AtBoundary()) != want) std::abort();
}

void CheckClose(const uint8_t* p, size_t n) {
  std::vector<char> copy(p, p + n);
  uint16_t code = 0;
  Span reason;
  ErrorCode e = ParseWsClosePayload(copy.data(), n, &code, &reason);
  if (e != ErrorCode::OK) {
    if (e != ErrorCode::WS_BAD_CLOSE_PAYLOAD && e != ErrorCode::WS_BAD_CLOSE_CODE &&
        e != ErrorCode::WS_INVALID_UTF8)
      std::abort();
    return;
  }
  if (n == 0 ? code != kWsCloseNoStatus : !IsValidWsCloseCode(code)) std::abort();
  std::string frame;
  AppendWsCloseFrame(&frame, code, reason);
  WsFrameRules rules;
  rules.server = false;
  WsFrameHeader h;
  if (ParseWsFrameHeader(frame.data(), frame.size(), rules, &h) != ErrorCode::OK || h.header_size == 0 ||
      h.opcode != kWsClose || h.header_size + h.payload_length != frame.size())
    std::abort();
  uint16_t code2 = 0;
  Span reason2;
  if (ParseWsClosePayload(frame.data() + h.header_size, h.payload_length, &code2, &reason2) !=
          ErrorCode::OK ||
      code2 != code)
    std::abort();
  size_t keep = reason.len <= kWsMaxControlPayload - 2 ? reason.len : reason2.len;
  if (reason2.len != keep || (keep != 0 && std::memcmp(reason2.data, reason.data, keep) != 0)) std::abort();
}

void CheckEncode(const uint8_t* p, size_t n, uint8_t op) {
  uint8_t key[4] = {static_cast<uint8_t>(n), 0xA5, static_cast<uint8_t>(op), 0x3C};
  std::string frame;
  AppendWsFrame(&frame, kWsBinary, true, reinterpret_cast<const char*>(p), n, key);
  WsFrameRules rules;
  rules.max_message_size = 0;
  WsFrameHeader h;
  if (ParseWsFrameHeader(frame.data(), frame.size(), rules, &h) != ErrorCode::OK || h.header_size == 0 ||
      h.payload_length != n || !h.masked || h.header_size + n != frame.size())
    std::abort();
  UnmaskWsPayload(&frame[h.header_size], n, h.mask, 0);
  if (n != 0 && std::memcmp(frame.data() + h.header_size, p, n) != 0) std::abort();
}

void CheckHandshake(const uint8_t* p, size_t n) {
  std::vector<char> copy(p, p + n);
  Span s{copy.data(), n};
  WsUpgradeRequest req;
  req.method = Span{"GET", 3};
  req.upgrade = s;
  req.connection = s;
  req.key = s;
  req.version = s;
  ErrorCode e = ValidateWsUpgrade(req);
  if (e != ErrorCode::OK && ErrorStatus(e) != 400 && ErrorStatus(e) != 426) std::abort();
  char accept[kWsAcceptSize];
  ComputeWsAccept(s, accept);
  WsDeflateOffer offers[kWsMaxDeflateOffers];
  size_t k = 99;
  e = ParseWsDeflateOffers(s, offers, kWsMaxDeflateOffers, &k);
  if (e != ErrorCode::OK) {
    if (e != ErrorCode::WS_BAD_EXTENSION_HEADER) std::abort();
    return;
  }
  if (k > kWsMaxDeflateOffers) std::abort();
  for (size_t i = 0; i < k; i++) {
    const WsDeflateOffer& o = offers[i];
    if (o.server_max_window_bits != 0 && (o.server_max_window_bits < 8 || o.server_max_window_bits > 15))
      std::abort();
    if (o.client_max_window_bits_value != 0 &&
        (!o.client_max_window_bits || o.client_max_window_bits_value < 8 ||
         o.client_max_window_bits_value > 15))
      std::abort();
    std::string resp;
    AppendWsDeflateResponse(&resp, o, (i & 1) != 0);
    WsDeflateOffer back[2];
    size_t m = 0;
    if (ParseWsDeflateOffers(Span{resp.data(), resp.size()}, back, 2, &m) != ErrorCode::OK || m != 1)
      std::abort();
    if (back[0].server_max_window_bits != o.server_max_window_bits ||
        back[0].client_no_context_takeover != o.client_no_context_takeover ||
        back[0].client_max_window_bits_value != o.client_max_window_bits_value)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  uint8_t flags = data[0];
  uint32_t seed = (static_cast<uint32_t>(data[1]) << 8) | data[2] | 1u;
  const uint8_t* wire = data + 3;
  size_t len = size - 3;

  WsFrameRules rules;
  rules.server = (flags & 1) == 0;
  rules.allow_rsv1 = (flags & 2) != 0;
  rules.max_message_size = (flags & 4) != 0 ? 64 : (flags & 8) != 0 ? 0 : 1 << 20;

  Outcome whole = Run(wire, len, rules, {});
  if (whole.consumed > len) std::abort();
  // Only a close frame stops the reader short of the end, and nothing follows it.
  if (whole.err == ErrorCode::OK && whole.consumed != len && !whole.closed) std::abort();
  if (whole.err != ErrorCode::OK && WsCloseCodeFor(whole.err) == 0) std::abort();

  // Pseudo-random cuts (an LCG from the seed), then single-byte pieces for short inputs.
  std::vector<size_t> cuts;
  size_t at = 0;
  while (len > 0) {
    seed = seed * 1103515245u + 12345u;
    at += 1 + (seed >> 16) % (len < 64 ? 4 : 40);
    if (at >= len) break;
    cuts.push_back(at);
  }
  std::vector<std::vector<size_t>> plans = {cuts};
  if (len <= 256) {
    std::vector<size_t> every;
    for (size_t i = 1; i < len; i++) every.push_back(i);
    plans.push_back(every);
  }
  for (const auto& plan : plans) {
    Outcome split = Run(wire, len, rules, plan);
    if (split.err != whole.err || split.done != whole.done || split.closed != whole.closed) std::abort();
    // Data before a failing byte may be delivered in one run and not the other.
    if (whole.err == ErrorCode::OK && (split.cur != whole.cur || split.consumed != whole.consumed))
      std::abort();
  }

  // Header prefixes.
  {
    std::vector<char> copy(wire, wire + len);
    WsFrameHeader full;
    ErrorCode e = ParseWsFrameHeader(copy.data(), len, rules, &full);
    for (size_t i = 0; i < len && i <= kWsMaxHeaderSize; i++) {
      std::vector<char> prefix(wire, wire + i);
      WsFrameHeader h;
      ErrorCode pe = ParseWsFrameHeader(prefix.data(), i, rules, &h);
      if (pe != ErrorCode::OK && pe != e) std::abort();
      if (pe == ErrorCode::OK && h.header_size != 0 &&
          (e != ErrorCode::OK || h.header_size != full.header_size))
        std::abort();
      if (e == ErrorCode::OK && full.header_size != 0 && (i < full.header_size) != (h.header_size == 0))
        std::abort();
    }
  }

  CheckUtf8(wire, len);
  CheckClose(wire, len < 200 ? len : 200);
  CheckEncode(wire, len, flags);
  CheckHandshake(wire, len);
  return 0;
}
