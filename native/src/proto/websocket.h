// The WebSocket protocol (RFC 6455) as pure functions over byte spans, plus the
// permessage-deflate negotiation of RFC 7692 (negotiation only: no compression yet). No I/O:
// the socket layer owns the buffers and decides when to call what (docs/websocket.md).
//   - the opening handshake (RFC 6455 section 4.2): ValidateWsUpgrade, ComputeWsAccept,
//     AppendWsHandshakeResponse, ParseWsDeflateOffers / AppendWsDeflateResponse;
//   - frames (section 5.2): ParseWsFrameHeader, UnmaskWsPayload, AppendWsFrameHeader;
//   - messages (sections 5.4, 5.6, 8.1): WsMessageState, WsUtf8Validator;
//   - closing (sections 5.5.1, 7.4): ParseWsClosePayload, IsValidWsCloseCode, AppendWsClose;
//   - WsReader, which ties frames and messages together over a stream split anywhere.
// Errors are codes of the one catalogue (common/errors.h); WsCloseCodeFor gives the close
// code a frame error ends the connection with, ErrorStatus the HTTP status a handshake error
// is answered with.
#ifndef TSGI_PROTO_WEBSOCKET_H_
#define TSGI_PROTO_WEBSOCKET_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.h"
#include "common/span.h"

namespace tsgi {

// ---- Opening handshake (RFC 6455 section 4.2) ----

// The facts of a request head the handshake depends on. List-valued headers that were sent
// several times are passed joined with ", " (RFC 9110 section 5.3); an absent header is an
// empty span. A repeated Sec-WebSocket-Key joined that way is not base64, so it is refused.
struct WsUpgradeRequest {
  Span method;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  Span upgrade;     // Upgrade
  Span connection;  // Connection
  Span key;         // Sec-WebSocket-Key
  Span version;     // Sec-WebSocket-Version
};

// Checks a client's opening handshake (section 4.2.1), in this order: method GET
// (WS_BAD_METHOD), HTTP/1.1 or later 1.x (WS_BAD_HTTP_VERSION), an Upgrade list holding the
// token "websocket" (WS_NO_UPGRADE_TOKEN), a Connection list holding "upgrade"
// (WS_NO_CONNECTION_UPGRADE), Sec-WebSocket-Version exactly 13 (WS_BAD_VERSION), a
// Sec-WebSocket-Key that is base64 of 16 bytes (WS_BAD_KEY). Tokens compare
// case-insensitively. The answer to a failure is ErrorStatus(code) (400, or 426 for
// WS_BAD_VERSION) plus the headers of WsHandshakeErrorHeaders(code).
ErrorCode ValidateWsUpgrade(const WsUpgradeRequest& req);

// Extra header lines (each ending in CRLF, possibly none) the error response must carry:
// "Sec-WebSocket-Version: 13\r\n" for WS_BAD_VERSION, so the client can retry with a version
// this server speaks (section 4.2.2 and 4.4).
const char* WsHandshakeErrorHeaders(ErrorCode code);

// Appends the whole error response for a failed handshake: the status line of
// ErrorStatus(code), the headers of WsHandshakeErrorHeaders(code), a short text body naming
// the error, and Connection: close. (CannedResponse has no 426 and no room for the extra
// header.)
void AppendWsHandshakeError(std::string* out, ErrorCode code);

constexpr size_t kWsAcceptSize = 28;  // base64 of a 20-byte SHA-1

// Sec-WebSocket-Accept for a key (section 4.2.2 step 5.4): base64(SHA-1(key + GUID)). The
// key is used as sent, after OWS trimming; `out` receives 28 characters, no NUL.
void ComputeWsAccept(Span key, char out[kWsAcceptSize]);

// Appends the 101 response (section 4.2.2 step 5): Upgrade, Connection, Sec-WebSocket-Accept,
// then Sec-WebSocket-Extensions when `extensions` is not empty, then the blank line.
void AppendWsHandshakeResponse(std::string* out, Span key, Span extensions);

// One permessage-deflate offer (RFC 7692 section 7.1) as the client sent it.
struct WsDeflateOffer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 0;        // 0: absent, else 8..15
  bool client_max_window_bits = false;       // present (with or without a value)
  uint8_t client_max_window_bits_value = 0;  // 0: present without a value, else 8..15
};

constexpr size_t kWsMaxDeflateOffers = 8;

// Parses Sec-WebSocket-Extensions (section 9.1 grammar: a comma list of extensions, each a
// token with ";"-separated params `token [= token | quoted-string]`) and returns the
// permessage-deflate offers in the client's order of preference, up to `max`. Offers RFC 7692
// section 7.1 says the server must decline (an unknown parameter, a repeated one, a value
// that is not 8..15 or is present where none is allowed) are left out, as are other
// extensions; WS_BAD_EXTENSION_HEADER only when the header breaks the grammar. An empty
// header is OK with no offers.
ErrorCode ParseWsDeflateOffers(Span header, WsDeflateOffer* out, size_t max, size_t* n);

// Appends the Sec-WebSocket-Extensions value accepting `offer` (RFC 7692 section 7.1): the
// offer's parameters echoed (client_max_window_bits only when it carried a value, since the
// server may not name a window the client did not offer to limit), plus
// server_no_context_takeover when `server_no_context_takeover` asks for it.
void AppendWsDeflateResponse(std::string* out, const WsDeflateOffer& offer, bool server_no_context_takeover);

// ---- Frames (RFC 6455 section 5.2) ----

enum WsOpcode : uint8_t {
  kWsContinuation = 0x0,
  kWsText = 0x1,
  kWsBinary = 0x2,
  kWsClose = 0x8,
  kWsPing = 0x9,
  kWsPong = 0xA,
};

inline bool IsWsControl(uint8_t opcode) {
  return (opcode & 0x8) != 0;
}

constexpr size_t kWsMaxHeaderSize = 14;       // 2 + 8 (64-bit length) + 4 (masking key)
constexpr size_t kWsMaxControlPayload = 125;  // section 5.5

// What this end accepts.
struct WsFrameRules {
  bool server = true;                     // frames come from a client: must be masked (section 5.1)
  bool allow_rsv1 = false;                // permessage-deflate was negotiated (RFC 7692 section 6)
  uint64_t max_message_size = 16u << 20;  // 0: no limit
};

struct WsFrameHeader {
  bool fin = false;
  bool rsv1 = false;
  uint8_t opcode = 0;
  bool masked = false;
  uint8_t mask[4] = {0, 0, 0, 0};
  uint64_t payload_length = 0;
  size_t header_size = 0;  // 0 while more bytes are needed
};

// Parses the frame header at the start of buf. Returns OK with header_size set once the
// header is complete, OK with header_size 0 when it needs more bytes, or the first rule the
// bytes break, judged as soon as the bytes that decide it are in (so a header split anywhere
// gives the same answer as whole): WS_RESERVED_OPCODE, WS_RSV_BITS, WS_CONTROL_FRAGMENTED,
// WS_UNMASKED_FRAME / WS_MASKED_FRAME, WS_CONTROL_TOO_LONG, WS_LENGTH_TOP_BIT,
// WS_NON_MINIMAL_LENGTH, WS_FRAME_TOO_BIG. Never reads past len.
ErrorCode ParseWsFrameHeader(const char* buf, size_t len, const WsFrameRules& rules, WsFrameHeader* out);

// XORs `len` payload bytes with the masking key in place (section 5.3). `offset` is the
// position of data[0] within the frame's payload, so a payload may be unmasked in pieces.
void UnmaskWsPayload(char* data, size_t len, const uint8_t mask[4], uint64_t offset);

// Appends a frame header. `mask` null: unmasked (server to client); else the 4-byte masking
// key (client to server), which the caller must also apply to the payload.
void AppendWsFrameHeader(std::string* out, uint8_t opcode, bool fin, uint64_t payload_length, bool rsv1,
                         const uint8_t* mask);

// Appends a whole frame, masking a copy of the payload when `mask` is not null.
void AppendWsFrame(std::string* out, uint8_t opcode, bool fin, const char* data, size_t len,
                   const uint8_t* mask = nullptr, bool rsv1 = false);

// ---- Messages (sections 5.4 and 8.1) ----

// Incremental UTF-8 validation (RFC 3629 section 4: no overlong forms, no surrogates
// U+D800..U+DFFF, nothing above U+10FFFF) that may be fed a message in any pieces. Each byte
// is judged as it arrives, so invalid input is reported at the first byte that no valid
// continuation could follow (RFC 6455 section 8.1 asks to fail "as soon as" it is known).
class WsUtf8Validator {
 public:
  // false at the first invalid byte; the validator then stays failed.
  bool Feed(const char* data, size_t len);
  // Whether the bytes so far end on a character boundary (a message may end here).
  bool AtBoundary() const { return need_ == 0 && !failed_; }
  bool failed() const { return failed_; }
  void Reset() { *this = WsUtf8Validator(); }

 private:
  uint8_t need_ = 0;               // continuation bytes still due
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // range of the next continuation byte
  bool failed_ = false;
};

// Whether a whole span is valid UTF-8.
bool IsValidUtf8(const char* data, size_t len);

// The state of a message across its frames.
struct WsMessageState {
  bool open = false;        // a fragmented message is under way
  uint8_t opcode = 0;       // kWsText or kWsBinary while open
  bool compressed = false;  // RSV1 on its first frame (RFC 7692 section 6.1)
  uint64_t size = 0;        // payload bytes so far
  WsUtf8Validator utf8;
};

// A data frame's header arrives (control frames do not go through here: they may interleave
// with a fragmented message, section 5.4). WS_UNEXPECTED_CONTINUATION for a continuation with
// no message open, WS_EXPECTED_CONTINUATION for a text or binary frame while one is,
// WS_MESSAGE_TOO_BIG when the message would pass max_message_size (0: no limit).
ErrorCode WsMessageFrame(WsMessageState* st, const WsFrameHeader& h, uint64_t max_message_size);

// Unmasked payload of the current data frame. A text message that is not compressed is
// checked as UTF-8 (WS_INVALID_UTF8); a compressed one can only be checked after inflating.
ErrorCode WsMessagePayload(WsMessageState* st, const char* data, size_t len);

// The current data frame's payload is complete. With fin, the message ends: a text message
// must end on a character boundary (WS_INVALID_UTF8), and the state is reset.
ErrorCode WsMessageFrameEnd(WsMessageState* st, bool fin);

// ---- Closing (sections 5.5.1 and 7.4) ----

constexpr uint16_t kWsCloseNormal = 1000;
constexpr uint16_t kWsCloseGoingAway = 1001;
constexpr uint16_t kWsCloseProtocolError = 1002;
constexpr uint16_t kWsCloseUnsupportedData = 1003;
constexpr uint16_t kWsCloseNoStatus = 1005;  // never on the wire: an empty close payload
constexpr uint16_t kWsCloseAbnormal = 1006;  // never on the wire: no close frame at all
constexpr uint16_t kWsCloseInvalidPayload = 1007;
constexpr uint16_t kWsClosePolicyViolation = 1008;
constexpr uint16_t kWsCloseTooBig = 1009;
constexpr uint16_t kWsCloseMandatoryExtension = 1010;
constexpr uint16_t kWsCloseInternalError = 1011;

// Whether a close code may be sent on the wire (section 7.4.1 and the IANA registry as the
// Autobahn testsuite applies them): 1000-1003, 1007-1011, 3000-4999 (registered and private
// use). 1004 is reserved, 1005, 1006 and 1015 are for reporting only, and 1012-2999 are
// refused as Autobahn's cases 7.9.x refuse them (1012-1014 were registered at IANA after
// RFC 6455 and are in no client this end has to talk to).
bool IsValidWsCloseCode(uint16_t code);

// The close code a frame or message error ends the connection with (section 7.4.1): 1009 for
// the size limits, 1007 for invalid UTF-8, 1002 for other frame errors, 0 for codes that are
// not WebSocket frame errors.
uint16_t WsCloseCodeFor(ErrorCode code);

// Parses a close frame's (unmasked) payload (section 5.5.1): empty gives kWsCloseNoStatus
// and an empty reason; else a 2-byte big-endian code that IsValidWsCloseCode accepts, then a
// UTF-8 reason. Errors: WS_BAD_CLOSE_PAYLOAD (1 byte), WS_BAD_CLOSE_CODE, WS_INVALID_UTF8.
ErrorCode ParseWsClosePayload(const char* data, size_t len, uint16_t* code, Span* reason);

// Appends a close frame: empty payload for kWsCloseNoStatus (or 0), else the code and the
// reason cut to 123 bytes at a UTF-8 character boundary so the frame stays a valid control
// frame. `mask` as for AppendWsFrame.
void AppendWsCloseFrame(std::string* out, uint16_t code, Span reason, const uint8_t* mask = nullptr);

// ---- A reader over a byte stream ----

// Receives what a WsReader decodes. Data arrives unmasked, in pieces that follow the reads,
// not the frames: a message is OnMessageBegin, any number of OnMessageData, OnMessageEnd.
// Control frames arrive whole, possibly between the pieces of a message.
class WsSink {
 public:
  virtual ~WsSink() = default;
  virtual void OnMessageBegin(uint8_t opcode, bool compressed) = 0;
  virtual void OnMessageData(const char* data, size_t len) = 0;
  virtual void OnMessageEnd() = 0;
  // Ping, pong, or a close frame whose payload ParseWsClosePayload accepted.
  virtual void OnControl(uint8_t opcode, const char* payload, size_t len) = 0;
};

// Decodes a stream of frames fed in any pieces. Payload is unmasked in place in the buffer
// passed to Feed, so the sink's data spans point into it. Only up to 13 header bytes and one
// control payload (125 bytes) are held between calls.
class WsReader {
 public:
  explicit WsReader(const WsFrameRules& rules) : rules_(rules) {}
  // Consumes bytes up to the end of `data`, or up to the end of a close frame (after which
  // nothing more is read: section 5.5.1), or up to an error. Returns OK or the first error,
  // which sticks: later calls return it again and consume nothing. *consumed (may be null)
  // is how many bytes were used.
  ErrorCode Feed(char* data, size_t len, WsSink* sink, size_t* consumed = nullptr);
  bool closed() const { return closed_; }
  // Between messages: no header, payload or fragmented message under way. At end of stream,
  // anything else means the peer stopped mid-frame or mid-message.
  bool idle() const { return head_len_ == 0 && !in_payload_ && !msg_.open; }
  ErrorCode error() const { return error_; }

 private:
  ErrorCode EndFrame(WsSink* sink);

  WsFrameRules rules_;
  char head_[kWsMaxHeaderSize];
  size_t head_len_ = 0;
  bool in_payload_ = false;
  WsFrameHeader frame_;
  uint64_t done_ = 0;  // payload bytes of the current frame seen
  char control_[kWsMaxControlPayload];
  WsMessageState msg_;
  bool closed_ = false;
  ErrorCode error_ = ErrorCode::OK;
};

}  // namespace tsgi

#endif  // TSGI_PROTO_WEBSOCKET_H_
