#include "proto/websocket.h"

#include <cstring>

#include "common/sha1.h"

namespace tsgi {

namespace {

inline bool IsOws(char c) {
  return c == ' ' || c == '\t';
}

Span Trim(Span s) {
  while (s.len > 0 && IsOws(s.data[0])) {
    s.data++;
    s.len--;
  }
  while (s.len > 0 && IsOws(s.data[s.len - 1])) s.len--;
  return s;
}

// tchar (RFC 9110 section 5.6.2).
bool IsTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

// Whether a comma-separated list (RFC 9110 section 5.6.1; empty elements allowed) holds
// `token`, compared case-insensitively. An Upgrade element "websocket/1" (RFC 9110 section
// 7.8 allows a protocol version) does not count: RFC 6455 section 4.2.1 asks for the bare
// token.
bool ListHasToken(Span list, const char* token, size_t n) {
  size_t i = 0;
  while (i <= list.len) {
    size_t j = i;
    while (j < list.len && list.data[j] != ',') j++;
    Span elem = Trim(Span{list.data + i, j - i});
    if (EqualsLowerAscii(elem, token, n)) return true;
    i = j + 1;
  }
  return false;
}

const char kWsGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // section 1.3

}  // namespace

ErrorCode ValidateWsUpgrade(const WsUpgradeRequest& req) {
  // Section 4.2.1 items 1-6. The method is case-sensitive (RFC 9110 section 9.1).
  if (!req.method.equals("GET", 3)) return ErrorCode::WS_BAD_METHOD;
  if (req.version_major != 1 || req.version_minor < 1) return ErrorCode::WS_BAD_HTTP_VERSION;
  if (!ListHasToken(req.upgrade, "websocket", 9)) return ErrorCode::WS_NO_UPGRADE_TOKEN;
  if (!ListHasToken(req.connection, "upgrade", 7)) return ErrorCode::WS_NO_CONNECTION_UPGRADE;
  // Item 6 then section 4.2.2: an unsupported version gets 426 with the versions we speak.
  if (!Trim(req.version).equals("13", 2)) return ErrorCode::WS_BAD_VERSION;
  Span key = Trim(req.key);
  uint8_t raw[18];
  if (key.len != 24 || Base64Decode(key.data, key.len, raw, sizeof raw) != 16) return ErrorCode::WS_BAD_KEY;
  return ErrorCode::OK;
}

const char* WsHandshakeErrorHeaders(ErrorCode code) {
  return code == ErrorCode::WS_BAD_VERSION ? "Sec-WebSocket-Version: 13\r\n" : "";
}

void AppendWsHandshakeError(std::string* out, ErrorCode code) {
  int status = ErrorStatus(code);
  const char* phrase = status == 426 ? "Upgrade Required" : "Bad Request";
  std::string body = ErrorReason(code);
  body += "\n";
  out->append("HTTP/1.1 " + std::to_string(status) + " " + phrase + "\r\n");
  out->append(WsHandshakeErrorHeaders(code));
  out->append("Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\n\r\n");
  out->append(body);
}

void ComputeWsAccept(Span key, char out[kWsAcceptSize]) {
  key = Trim(key);
  Sha1 sha;
  sha.Update(key.data, key.len);
  sha.Update(kWsGuid, sizeof kWsGuid - 1);
  uint8_t digest[kSha1DigestSize];
  sha.Final(digest);
  Base64Encode(digest, sizeof digest, out);
}

void AppendWsHandshakeResponse(std::string* out, Span key, Span extensions) {
  char accept[kWsAcceptSize];
  ComputeWsAccept(key, accept);
  out->append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
  out->append("Sec-WebSocket-Accept: ");
  out->append(accept, kWsAcceptSize);
  out->append("\r\n");
  if (!extensions.empty()) {
    out->append("Sec-WebSocket-Extensions: ");
    out->append(extensions.data, extensions.len);
    out->append("\r\n");
  }
  out->append("\r\n");
}

// ---- Sec-WebSocket-Extensions (RFC 6455 section 9.1, RFC 7692 section 7) ----

namespace {

struct ExtCursor {
  const char* p;
  const char* end;
  void SkipOws() {
    while (p < end && IsOws(*p)) p++;
  }
  Span Token() {
    const char* s = p;
    while (p < end && IsTchar(static_cast<unsigned char>(*p))) p++;
    return Span{s, static_cast<size_t>(p - s)};
  }
};

// A window-bits value (RFC 7692 sections 7.1.2.1 and 7.1.2.2): 1*DIGIT from 8 to 15, no
// leading zero. Returns 0 when invalid.
uint8_t WindowBits(const std::string& v) {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return static_cast<uint8_t>(v[0] - '0');
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
    return static_cast<uint8_t>(10 + v[1] - '0');
  return 0;
}

}  // namespace

ErrorCode ParseWsDeflateOffers(Span header, WsDeflateOffer* out, size_t max, size_t* n) {
  *n = 0;
  ExtCursor c{header.data, header.data + header.len};
  while (true) {
    c.SkipOws();
    if (c.p == c.end) break;
    if (*c.p == ',') {  // empty list element (RFC 9110 section 5.6.1)
      c.p++;
      continue;
    }
    Span name = c.Token();
    if (name.empty()) return ErrorCode::WS_BAD_EXTENSION_HEADER;
    bool deflate = EqualsLowerAscii(name, "permessage-deflate", 18);
    WsDeflateOffer offer;
    bool ok = true;  // false: the offer is declined (RFC 7692 section 7.1), not an error
    unsigned seen = 0;
    c.SkipOws();
    while (c.p < c.end && *c.p == ';') {
      c.p++;
      c.SkipOws();
      Span pname = c.Token();
      if (pname.empty()) return ErrorCode::WS_BAD_EXTENSION_HEADER;
      c.SkipOws();
      bool has_value = false;
      std::string value;
      if (c.p < c.end && *c.p == '=') {
        c.p++;
        c.SkipOws();
        has_value = true;
        if (c.p < c.end && *c.p == '"') {
          // quoted-string (RFC 9110 section 5.6.4); section 9.1 asks that its content also
          // be a token, which the window-bits check below enforces for the values we use.
          c.p++;
          bool closed = false;
          while (c.p < c.end) {
            char ch = *c.p++;
            if (ch == '"') {
              closed = true;
              break;
            }
            if (ch == '\\') {
              if (c.p == c.end) return ErrorCode::WS_BAD_EXTENSION_HEADER;
              ch = *c.p++;
            }
            value.push_back(ch);
          }
          if (!closed) return ErrorCode::WS_BAD_EXTENSION_HEADER;
        } else {
          Span v = c.Token();
          if (v.empty()) return ErrorCode::WS_BAD_EXTENSION_HEADER;
          value.assign(v.data, v.len);
        }
        c.SkipOws();
      }
      if (!deflate) continue;
      unsigned bit;
      if (EqualsLowerAscii(pname, "server_no_context_takeover", 26)) {
        bit = 1;
        offer.server_no_context_takeover = true;
        if (has_value) ok = false;
      } else if (EqualsLowerAscii(pname, "client_no_context_takeover", 26)) {
        bit = 2;
        offer.client_no_context_takeover = true;
        if (has_value) ok = false;
      } else if (EqualsLowerAscii(pname, "server_max_window_bits", 22)) {
        bit = 4;
        offer.server_max_window_bits = has_value ? WindowBits(value) : 0;
        if (offer.server_max_window_bits == 0) ok = false;  // a value is required
      } else if (EqualsLowerAscii(pname, "client_max_window_bits", 22)) {
        bit = 8;
        offer.client_max_window_bits = true;
        if (has_value) {
          offer.client_max_window_bits_value = WindowBits(value);
          if (offer.client_max_window_bits_value == 0) ok = false;
        }
      } else {
        bit = 0;
        ok = false;  // a parameter not defined for offers
      }
      if (bit != 0 && (seen & bit) != 0) ok = false;  // repeated parameter
      seen |= bit;
    }
    if (c.p < c.end && *c.p != ',') return ErrorCode::WS_BAD_EXTENSION_HEADER;
    if (deflate && ok && *n < max) out[(*n)++] = offer;
  }
  return ErrorCode::OK;
}

void AppendWsDeflateResponse(std::string* out, const WsDeflateOffer& offer, bool server_no_context_takeover) {
  out->append("permessage-deflate");
  if (offer.server_no_context_takeover || server_no_context_takeover)
    out->append("; server_no_context_takeover");
  if (offer.client_no_context_takeover) out->append("; client_no_context_takeover");
  if (offer.server_max_window_bits != 0) {
    out->append("; server_max_window_bits=");
    out->append(std::to_string(offer.server_max_window_bits));
  }
  if (offer.client_max_window_bits && offer.client_max_window_bits_value != 0) {
    out->append("; client_max_window_bits=");
    out->append(std::to_string(offer.client_max_window_bits_value));
  }
}

// ---- Frames ----

ErrorCode ParseWsFrameHeader(const char* buf, size_t len, const WsFrameRules& rules, WsFrameHeader* out) {
  *out = WsFrameHeader();
  if (len < 1) return ErrorCode::OK;
  uint8_t b0 = static_cast<uint8_t>(buf[0]);
  bool fin = (b0 & 0x80) != 0;
  uint8_t opcode = b0 & 0x0F;
  // Section 5.2: opcodes 3-7 and 0xB-0xF are reserved; "MUST _Fail the WebSocket Connection_".
  if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) return ErrorCode::WS_RESERVED_OPCODE;
  // RSV2/RSV3 belong to no extension we negotiate. RSV1 is permessage-deflate's, and only on
  // the first frame of a data message (RFC 7692 section 6.1).
  if ((b0 & 0x30) != 0) return ErrorCode::WS_RSV_BITS;
  bool rsv1 = (b0 & 0x40) != 0;
  if (rsv1 && (!rules.allow_rsv1 || opcode == kWsContinuation || IsWsControl(opcode)))
    return ErrorCode::WS_RSV_BITS;
  // Section 5.5: control frames are never fragmented.
  if (IsWsControl(opcode) && !fin) return ErrorCode::WS_CONTROL_FRAGMENTED;
  if (len < 2) return ErrorCode::OK;
  uint8_t b1 = static_cast<uint8_t>(buf[1]);
  bool masked = (b1 & 0x80) != 0;
  // Section 5.1: clients mask every frame, servers none.
  if (rules.server && !masked) return ErrorCode::WS_UNMASKED_FRAME;
  if (!rules.server && masked) return ErrorCode::WS_MASKED_FRAME;
  uint64_t plen = b1 & 0x7F;
  if (IsWsControl(opcode) && plen > kWsMaxControlPayload) return ErrorCode::WS_CONTROL_TOO_LONG;
  size_t pos = 2;
  if (plen == 126) {
    if (len < 4) return ErrorCode::OK;
    plen = (static_cast<uint64_t>(static_cast<uint8_t>(buf[2])) << 8) | static_cast<uint8_t>(buf[3]);
    // Section 5.2: "the minimal number of bytes MUST be used to encode the length".
    if (plen < 126) return ErrorCode::WS_NON_MINIMAL_LENGTH;
    pos = 4;
  } else if (plen == 127) {
    if (len < 3) return ErrorCode::OK;
    // Section 5.2: "the most significant bit MUST be 0".
    if ((static_cast<uint8_t>(buf[2]) & 0x80) != 0) return ErrorCode::WS_LENGTH_TOP_BIT;
    if (len < 10) return ErrorCode::OK;
    plen = 0;
    for (int i = 2; i < 10; i++) plen = (plen << 8) | static_cast<uint8_t>(buf[i]);
    if (plen <= 0xFFFF) return ErrorCode::WS_NON_MINIMAL_LENGTH;
    pos = 10;
  }
  // Section 10.4: a limit on frame and message size; 1009 per section 7.4.1.
  if (rules.max_message_size != 0 && plen > rules.max_message_size) return ErrorCode::WS_FRAME_TOO_BIG;
  if (masked) {
    if (len < pos + 4) return ErrorCode::OK;
    std::memcpy(out->mask, buf + pos, 4);
    pos += 4;
  }
  out->fin = fin;
  out->rsv1 = rsv1;
  out->opcode = opcode;
  out->masked = masked;
  out->payload_length = plen;
  out->header_size = pos;
  return ErrorCode::OK;
}

void UnmaskWsPayload(char* data, size_t len, const uint8_t mask[4], uint64_t offset) {
  // The key rotated so that key[0] lines up with data[0] (section 5.3: octet i is XORed with
  // mask[i mod 4] where i counts from the payload's start).
  uint8_t k[4];
  for (int i = 0; i < 4; i++) k[i] = mask[(offset + static_cast<uint64_t>(i)) & 3];
  size_t i = 0;
  if (len >= 16) {
    // Eight bytes at a time through memcpy: no alignment or aliasing assumptions (UBSan-clean),
    // and compilers turn it into plain 64-bit loads and stores. The 8-byte key is the 4-byte
    // one twice, so it is the same whatever the byte order.
    uint8_t k8[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
    uint64_t m;
    std::memcpy(&m, k8, 8);
    for (; i + 8 <= len; i += 8) {
      uint64_t v;
      std::memcpy(&v, data + i, 8);
      v ^= m;
      std::memcpy(data + i, &v, 8);
    }
  }
  for (; i < len; i++) data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ k[i & 3]);
}

void AppendWsFrameHeader(std::string* out, uint8_t opcode, bool fin, uint64_t payload_length, bool rsv1,
                         const uint8_t* mask) {
  char h[kWsMaxHeaderSize];
  size_t n = 0;
  h[n++] = static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0F));
  uint8_t mbit = mask != nullptr ? 0x80 : 0;
  if (payload_length < 126) {
    h[n++] = static_cast<char>(mbit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    h[n++] = static_cast<char>(mbit | 126);
    h[n++] = static_cast<char>(payload_length >> 8);
    h[n++] = static_cast<char>(payload_length & 0xFF);
  } else {
    h[n++] = static_cast<char>(mbit | 127);
    for (int i = 7; i >= 0; i--) h[n++] = static_cast<char>((payload_length >> (8 * i)) & 0xFF);
  }
  if (mask != nullptr) {
    std::memcpy(h + n, mask, 4);
    n += 4;
  }
  out->append(h, n);
}

void AppendWsFrame(std::string* out, uint8_t opcode, bool fin, const char* data, size_t len,
                   const uint8_t* mask, bool rsv1) {
  AppendWsFrameHeader(out, opcode, fin, len, rsv1, mask);
  size_t at = out->size();
  if (len > 0) out->append(data, len);
  if (mask != nullptr && len > 0) UnmaskWsPayload(&(*out)[at], len, mask, 0);
}

// ---- UTF-8 (RFC 3629 section 4) ----

bool WsUtf8Validator::Feed(const char* data, size_t len) {
  if (failed_) return false;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  size_t i = 0;
  while (i < len) {
    if (need_ == 0) {
      // ASCII runs eight bytes at a time: most text is ASCII.
      while (i + 8 <= len) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        if ((v & 0x8080808080808080ull) != 0) break;
        i += 8;
      }
      if (i == len) break;
      uint8_t b = p[i++];
      if (b < 0x80) continue;
      // Lead bytes, with the range the first continuation byte must fall in: the table of
      // RFC 3629 section 4 (UTF8-2, UTF8-3, UTF8-4), which leaves out overlong forms (C0, C1,
      // E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points past U+10FFFF (F4 90-,
      // F5-FF).
      lo_ = 0x80;
      hi_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;
        if (b == 0xED) hi_ = 0x9F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;
        if (b == 0xF4) hi_ = 0x8F;
      } else {
        failed_ = true;
        return false;
      }
    } else {
      uint8_t b = p[i++];
      if (b < lo_ || b > hi_) {
        failed_ = true;
        return false;
      }
      need_--;
      lo_ = 0x80;
      hi_ = 0xBF;
    }
  }
  return true;
}

bool IsValidUtf8(const char* data, size_t len) {
  WsUtf8Validator v;
  return v.Feed(data, len) && v.AtBoundary();
}

// ---- Messages ----

ErrorCode WsMessageFrame(WsMessageState* st, const WsFrameHeader& h, uint64_t max_message_size) {
  // Section 5.4: a fragmented message is a first frame with FIN clear and an opcode, then
  // continuation frames, the last with FIN set; messages do not interleave.
  if (h.opcode == kWsContinuation) {
    if (!st->open) return ErrorCode::WS_UNEXPECTED_CONTINUATION;
  } else {
    if (st->open) return ErrorCode::WS_EXPECTED_CONTINUATION;
    st->open = true;
    st->opcode = h.opcode;
    st->compressed = h.rsv1;
    st->size = 0;
    st->utf8.Reset();
  }
  if (max_message_size != 0 && h.payload_length > max_message_size - st->size)
    return ErrorCode::WS_MESSAGE_TOO_BIG;
  st->size += h.payload_length;
  return ErrorCode::OK;
}

ErrorCode WsMessagePayload(WsMessageState* st, const char* data, size_t len) {
  // Section 8.1: text must be valid UTF-8; fail as soon as it is not (Autobahn's "fail fast").
  if (st->opcode == kWsText && !st->compressed && !st->utf8.Feed(data, len))
    return ErrorCode::WS_INVALID_UTF8;
  return ErrorCode::OK;
}

ErrorCode WsMessageFrameEnd(WsMessageState* st, bool fin) {
  if (!fin) return ErrorCode::OK;
  bool text_cut = st->opcode == kWsText && !st->compressed && !st->utf8.AtBoundary();
  st->open = false;
  st->opcode = 0;
  st->compressed = false;
  st->size = 0;
  st->utf8.Reset();
  return text_cut ? ErrorCode::WS_INVALID_UTF8 : ErrorCode::OK;
}

// ---- Closing ----

bool IsValidWsCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

uint16_t WsCloseCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::WS_FRAME_TOO_BIG:
    case ErrorCode::WS_MESSAGE_TOO_BIG:
      return kWsCloseTooBig;
    case ErrorCode::WS_INVALID_UTF8:
      return kWsCloseInvalidPayload;
    case ErrorCode::WS_RESERVED_OPCODE:
    case ErrorCode::WS_RSV_BITS:
    case ErrorCode::WS_CONTROL_FRAGMENTED:
    case ErrorCode::WS_CONTROL_TOO_LONG:
    case ErrorCode::WS_UNMASKED_FRAME:
    case ErrorCode::WS_MASKED_FRAME:
    case ErrorCode::WS_NON_MINIMAL_LENGTH:
    case ErrorCode::WS_LENGTH_TOP_BIT:
    case ErrorCode::WS_UNEXPECTED_CONTINUATION:
    case ErrorCode::WS_EXPECTED_CONTINUATION:
    case ErrorCode::WS_BAD_CLOSE_PAYLOAD:
    case ErrorCode::WS_BAD_CLOSE_CODE:
      return kWsCloseProtocolError;
    default:
      return 0;
  }
}

ErrorCode ParseWsClosePayload(const char* data, size_t len, uint16_t* code, Span* reason) {
  *reason = Span{};
  if (len == 0) {
    *code = kWsCloseNoStatus;
    return ErrorCode::OK;
  }
  *code = 0;
  if (len == 1) return ErrorCode::WS_BAD_CLOSE_PAYLOAD;
  uint16_t c = static_cast<uint16_t>((static_cast<uint8_t>(data[0]) << 8) | static_cast<uint8_t>(data[1]));
  if (!IsValidWsCloseCode(c)) return ErrorCode::WS_BAD_CLOSE_CODE;
  if (!IsValidUtf8(data + 2, len - 2)) return ErrorCode::WS_INVALID_UTF8;
  *code = c;
  *reason = Span{data + 2, len - 2};
  return ErrorCode::OK;
}

void AppendWsCloseFrame(std::string* out, uint16_t code, Span reason, const uint8_t* mask) {
  if (code == 0 || code == kWsCloseNoStatus) {
    AppendWsFrame(out, kWsClose, true, nullptr, 0, mask);
    return;
  }
  size_t n = reason.len;
  if (n > kWsMaxControlPayload - 2) {
    n = kWsMaxControlPayload - 2;
    // Back up to the start of a character: never cut a UTF-8 sequence (section 5.5.1).
    while (n > 0 && (static_cast<uint8_t>(reason.data[n]) & 0xC0) == 0x80) n--;
  }
  char payload[kWsMaxControlPayload];
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  if (n > 0) std::memcpy(payload + 2, reason.data, n);
  AppendWsFrame(out, kWsClose, true, payload, n + 2, mask);
}

// ---- WsReader ----

ErrorCode WsReader::EndFrame(WsSink* sink) {
  in_payload_ = false;
  if (IsWsControl(frame_.opcode)) {
    size_t n = static_cast<size_t>(frame_.payload_length);
    if (frame_.opcode == kWsClose) {
      uint16_t code;
      Span reason;
      ErrorCode e = ParseWsClosePayload(control_, n, &code, &reason);
      if (e != ErrorCode::OK) return e;
      closed_ = true;
    }
    sink->OnControl(frame_.opcode, control_, n);
    return ErrorCode::OK;
  }
  ErrorCode e = WsMessageFrameEnd(&msg_, frame_.fin);
  if (e != ErrorCode::OK) return e;
  if (frame_.fin) sink->OnMessageEnd();
  return ErrorCode::OK;
}

ErrorCode WsReader::Feed(char* data, size_t len, WsSink* sink, size_t* consumed) {
  size_t pos = 0;
  ErrorCode e = error_;
  while (e == ErrorCode::OK && !closed_ && pos < len) {
    if (!in_payload_) {
      // Gather header bytes: at most the 14 a header can take, then give back what the
      // parsed header did not use.
      size_t take = kWsMaxHeaderSize - head_len_;
      if (take > len - pos) take = len - pos;
      std::memcpy(head_ + head_len_, data + pos, take);
      e = ParseWsFrameHeader(head_, head_len_ + take, rules_, &frame_);
      if (e != ErrorCode::OK) break;
      if (frame_.header_size == 0) {
        head_len_ += take;
        pos += take;
        continue;
      }
      pos += frame_.header_size - head_len_;
      head_len_ = 0;
      if (!IsWsControl(frame_.opcode)) {
        bool first = frame_.opcode != kWsContinuation;
        e = WsMessageFrame(&msg_, frame_, rules_.max_message_size);
        if (e != ErrorCode::OK) break;
        if (first) sink->OnMessageBegin(frame_.opcode, frame_.rsv1);
      }
      in_payload_ = true;
      done_ = 0;
      if (frame_.payload_length == 0) e = EndFrame(sink);
      continue;
    }
    uint64_t left = frame_.payload_length - done_;
    size_t n = left < len - pos ? static_cast<size_t>(left) : len - pos;
    char* p = data + pos;
    if (frame_.masked) UnmaskWsPayload(p, n, frame_.mask, done_);
    if (IsWsControl(frame_.opcode)) {
      std::memcpy(control_ + done_, p, n);
    } else {
      e = WsMessagePayload(&msg_, p, n);
      if (e != ErrorCode::OK) break;
      sink->OnMessageData(p, n);
    }
    pos += n;
    done_ += n;
    if (done_ == frame_.payload_length) e = EndFrame(sink);
  }
  error_ = e;
  if (consumed != nullptr) *consumed = pos;
  return e;
}

}  // namespace tsgi
