// The client side of RFC 6455 (WebSocket) for the data connections: the opening handshake and the
// framing. Pure: bytes in, bytes or callbacks out; no socket, no clock, no allocation per frame
// once the message buffer is sized. libwebsockets still owns the TCP connection, TLS and the
// HTTP upgrade request (an HTTP/1.1 client); this replaces its WebSocket client receive state
// machine, which handles one byte per function call (docs/design.md, "The receive path").
//
// What the decoder enforces, as a client must (RFC 6455 section numbers):
//  - 5.1  a masked frame from the server fails the connection (1002);
//  - 5.2  RSV1-3 set without a negotiated extension (we offer none): 1002; reserved opcodes
//         (3-7, 0xB-0xF): 1002; a 64-bit length with the top bit set: 1002;
//  - 5.4  a continuation frame with no message in progress, or a new text/binary frame while
//         one is in progress: 1002; control frames may arrive between fragments;
//  - 5.5  control frames: payload <= 125 bytes and FIN set, else 1002;
//  - 5.5.1 a close payload of 1 byte, a close code that is not allowed on the wire (7.4), or a
//         reason that is not UTF-8: 1002 (1007 for the reason);
//  - 8.1  a text message that is not UTF-8 fails the connection with 1007 (checked when the
//         message is complete, and for each fragment so far where possible);
//  - 10.4 a message larger than the configured cap: 1009 (the daemon's max_message_bytes).
// Nothing is delivered after a close frame (5.5.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes (RFC 6455 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;

inline constexpr std::size_t kMaxControlPayload = 125;
inline constexpr std::size_t kMaxHandshakeBytes = 16384;

// True for the codes an endpoint may receive in a close frame (7.4.1, 7.4.2): 1000-1003,
// 1007-1011 (1012-1014 are registered by IANA since and accepted), 3000-4999.
[[nodiscard]] bool close_code_allowed(std::uint16_t code) noexcept;

// What the decoder hands its owner. Payload views are valid during the call only.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // A complete text or binary message. `data` has at least `padding` readable bytes past `len`
  // (for simdjson); `capacity` is the buffer's size from data.
  virtual void on_message(Opcode op, char* data, std::size_t len, std::size_t capacity) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  // code is kCloseNoStatus when the frame had no payload.
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

class FrameDecoder {
 public:
  // max_message: the largest message accepted (1009 above it); padding: readable bytes kept
  // past every delivered message.
  FrameDecoder(std::size_t max_message, std::size_t padding);

  enum class State : std::uint8_t { kOpen, kClosed, kFailed };

  // Consumes all of [data, data+len) or stops at the first fatal error or after a close frame.
  // Returns the state afterwards: kFailed means the connection must be failed with
  // fail_code() (send a close frame with it, then close TCP, 7.1.7); kClosed means the peer
  // sent a close frame (answer it, then wait for the server to close TCP).
  State feed(const char* data, std::size_t len, FrameSink& sink);

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] std::uint16_t fail_code() const noexcept { return fail_code_; }
  [[nodiscard]] const std::string& fail_reason() const noexcept { return fail_reason_; }
  // Frames and messages decoded so far (for tests and stats).
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }

 private:
  State fail(std::uint16_t code, const char* why);
  bool first_bytes_valid();
  bool header_complete();
  State on_frame_end(FrameSink& sink);

  std::size_t max_message_;
  State state_ = State::kOpen;
  std::uint16_t fail_code_ = 0;
  std::string fail_reason_;
  std::uint64_t frames_ = 0;

  // The frame being read.
  unsigned char hdr_[14]{};
  std::size_t hdr_len_ = 0;   // header bytes gathered
  std::size_t hdr_need_ = 2;  // header bytes this frame has (2, 4 or 10; never masked)
  bool in_payload_ = false;
  bool fin_ = false;
  Opcode op_ = Opcode::kText;
  std::uint64_t remaining_ = 0;  // payload bytes still to come in this frame

  // The message being assembled (text/binary across fragments) and the control frame payload.
  std::vector<char> msg_;
  std::size_t msg_len_ = 0;
  bool in_message_ = false;
  Opcode msg_op_ = Opcode::kText;
  std::size_t utf8_checked_ = 0;  // bytes of msg_ already known to be valid UTF-8
  char ctl_[kMaxControlPayload]{};
  std::size_t ctl_len_ = 0;
};

// A client frame, FIN set, masked with mask_key (RFC 6455 5.3: every client frame is masked
// with a fresh unpredictable key; make_mask_key() gives one).
[[nodiscard]] std::string encode_frame(Opcode op, std::string_view payload, const unsigned char mask_key[4]);
// A close frame's payload: the code in network order and an optional UTF-8 reason (<= 123 bytes,
// cut at a character boundary).
[[nodiscard]] std::string close_payload(std::uint16_t code, std::string_view reason);

// Four bytes from the system's CSPRNG (OpenSSL RAND_bytes). Throws if it fails.
void make_mask_key(unsigned char out[4]);

// The opening handshake (RFC 6455 4.1, 4.2.2). The request line and Host are the HTTP
// client's; these are the upgrade's own headers.
// Sec-WebSocket-Key: base64 of 16 bytes from the system's CSPRNG. Throws if it fails.
[[nodiscard]] std::string make_key();
// "Upgrade: websocket", "Connection: Upgrade", the key and "Sec-WebSocket-Version: 13", each
// ending in CRLF; no extension or subprotocol is offered.
[[nodiscard]] std::string upgrade_headers(std::string_view key);
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
[[nodiscard]] std::string accept_for(std::string_view key);

struct HandshakeReply {
  enum class Status : std::uint8_t { kIncomplete, kAccepted, kRefused, kInvalid };
  Status status = Status::kIncomplete;
  int http_status = 0;      // the server's status code, when one was read
  std::size_t head_bytes = 0;  // bytes of the response head (frames may follow in the same read)
  std::string error;        // why it was refused or invalid, for the log and status
};
// Checks the server's response head against the key we sent: "HTTP/1.1 101", Upgrade:
// websocket, Connection: upgrade, the right Sec-WebSocket-Accept, no extension or subprotocol
// we did not ask for. `buf` is everything received so far; kIncomplete until the blank line
// (kInvalid if the head exceeds kMaxHandshakeBytes).
[[nodiscard]] HandshakeReply check_handshake_reply(std::string_view buf, std::string_view key);

}  // namespace mdfeed::ws
