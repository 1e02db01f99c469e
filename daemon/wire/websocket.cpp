// RFC 6455 client codec: see websocket.hpp for the rules and the close code of each.
#include "wire/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace mdfeed::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_control(Opcode op) noexcept { return (static_cast<unsigned>(op) & 0x8U) != 0; }

bool opcode_known(unsigned op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

bool valid_utf8(const char* p, std::size_t n) noexcept { return simdjson::validate_utf8(p, n); }

// The end of the longest prefix of [p, p+n) that does not stop inside a UTF-8 sequence which
// the next fragment may complete. Invalid bytes are left in the prefix, so they are caught.
std::size_t utf8_safe_end(const char* p, std::size_t n) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const unsigned char c = u[n - back];
    if ((c & 0xC0U) == 0x80U) continue;  // continuation byte: keep looking for the lead
    std::size_t want = 1;
    if ((c & 0xE0U) == 0xC0U) want = 2;
    else if ((c & 0xF0U) == 0xE0U) want = 3;
    else if ((c & 0xF8U) == 0xF0U) want = 4;
    return want > back ? n - back : n;
  }
  return n;
}

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int w = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(w));
  return out;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated header value lists token (case-insensitive).
bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string printable(std::string_view s, std::size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

}  // namespace

bool close_code_allowed(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

FrameDecoder::FrameDecoder(std::size_t max_message, std::size_t padding)
    : max_message_(max_message), msg_(max_message + padding) {}

FrameDecoder::State FrameDecoder::fail(std::uint16_t code, const char* why) {
  state_ = State::kFailed;
  fail_code_ = code;
  fail_reason_ = why;
  return state_;
}

// The first two header bytes are in: everything they decide is checked now (5.1 masking, 5.2
// RSV bits and opcodes, 5.5 control frames), and hdr_need_ becomes the header's full size.
bool FrameDecoder::first_bytes_valid() {
  const auto bad = [this](const char* why) {
    fail(kCloseProtocolError, why);
    return false;
  };
  const unsigned char b0 = hdr_[0];
  const unsigned char b1 = hdr_[1];
  if ((b1 & 0x80U) != 0) return bad("masked frame from the server");
  if ((b0 & 0x70U) != 0) return bad("reserved bits set with no extension negotiated");
  if (!opcode_known(b0 & 0x0FU)) return bad("reserved opcode");
  const unsigned len7 = b1 & 0x7FU;
  if ((b0 & 0x08U) != 0) {
    if ((b0 & 0x80U) == 0) return bad("fragmented control frame");
    if (len7 > kMaxControlPayload) return bad("control frame payload over 125 bytes");
  }
  hdr_need_ = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
  return true;
}

// The whole header is in: the payload length (5.2) and the frame's place in the message (5.4,
// the size cap).
bool FrameDecoder::header_complete() {
  const unsigned char b0 = hdr_[0];
  const unsigned char b1 = hdr_[1];
  fin_ = (b0 & 0x80U) != 0;
  op_ = static_cast<Opcode>(b0 & 0x0FU);
  const unsigned len7 = b1 & 0x7FU;
  std::uint64_t n = len7;
  if (len7 == 126) {
    n = (static_cast<std::uint64_t>(hdr_[2]) << 8) | hdr_[3];
  } else if (len7 == 127) {
    n = 0;
    for (int i = 2; i < 10; ++i) n = (n << 8) | hdr_[i];
    if ((n >> 63) != 0) {
      fail(kCloseProtocolError, "64-bit frame length with the most significant bit set");
      return false;
    }
  }
  remaining_ = n;
  if (is_control(op_)) {
    ctl_len_ = 0;
  } else {
    if (op_ == Opcode::kContinuation) {
      if (!in_message_) {
        fail(kCloseProtocolError, "continuation frame with no message in progress");
        return false;
      }
    } else {
      if (in_message_) {
        fail(kCloseProtocolError, "new data frame inside a fragmented message");
        return false;
      }
      in_message_ = true;
      msg_op_ = op_;
      msg_len_ = 0;
      utf8_checked_ = 0;
    }
    if (n > max_message_ - msg_len_) {
      fail(kCloseTooBig, "message larger than max_message_bytes");
      return false;
    }
  }
  in_payload_ = true;
  return true;
}

FrameDecoder::State FrameDecoder::on_frame_end(FrameSink& sink) {
  ++frames_;
  in_payload_ = false;
  hdr_len_ = 0;
  hdr_need_ = 2;
  switch (op_) {
    case Opcode::kClose: {
      std::uint16_t code = kCloseNoStatus;
      std::string_view reason;
      if (ctl_len_ == 1) return fail(kCloseProtocolError, "close frame with a 1-byte payload");
      if (ctl_len_ >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(ctl_[0]) << 8) | static_cast<unsigned char>(ctl_[1]));
        if (!close_code_allowed(code)) return fail(kCloseProtocolError, "close frame with a code not allowed on the wire");
        reason = std::string_view(ctl_ + 2, ctl_len_ - 2);
        if (!valid_utf8(reason.data(), reason.size())) return fail(kCloseInvalidPayload, "close reason is not UTF-8");
      }
      state_ = State::kClosed;
      sink.on_close(code, reason);
      return state_;
    }
    case Opcode::kPing:
      sink.on_ping(std::string_view(ctl_, ctl_len_));
      return state_;
    case Opcode::kPong:
      sink.on_pong(std::string_view(ctl_, ctl_len_));
      return state_;
    default:
      break;
  }
  if (msg_op_ == Opcode::kText) {
    const std::size_t end = fin_ ? msg_len_ : utf8_safe_end(msg_.data(), msg_len_);
    if (end > utf8_checked_) {
      if (!valid_utf8(msg_.data() + utf8_checked_, end - utf8_checked_))
        return fail(kCloseInvalidPayload, "text message is not UTF-8");
      utf8_checked_ = end;
    }
  }
  if (fin_) {
    in_message_ = false;
    sink.on_message(msg_op_, msg_.data(), msg_len_, msg_.size());
  }
  return state_;
}

FrameDecoder::State FrameDecoder::feed(const char* data, std::size_t len, FrameSink& sink) {
  std::size_t i = 0;
  while (state_ == State::kOpen) {
    if (!in_payload_) {
      while (hdr_len_ < hdr_need_ && i < len) {
        hdr_[hdr_len_++] = static_cast<unsigned char>(data[i++]);
        if (hdr_len_ == 2 && !first_bytes_valid()) return state_;
      }
      if (hdr_len_ < hdr_need_) break;
      if (!header_complete()) return state_;
      if (remaining_ == 0) {
        on_frame_end(sink);
        continue;
      }
    }
    if (i >= len) break;
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - i));
    if (is_control(op_)) {
      std::memcpy(ctl_ + ctl_len_, data + i, take);
      ctl_len_ += take;
    } else {
      std::memcpy(msg_.data() + msg_len_, data + i, take);
      msg_len_ += take;
    }
    i += take;
    remaining_ -= take;
    if (remaining_ == 0) on_frame_end(sink);
  }
  return state_;
}

std::string encode_frame(Opcode op, std::string_view payload, const unsigned char mask_key[4]) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>(0x80U | static_cast<unsigned>(op)));
  const std::size_t n = payload.size();
  if (n <= 125) {
    out.push_back(static_cast<char>(0x80U | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80U | 126U));
    out.push_back(static_cast<char>((n >> 8) & 0xFFU));
    out.push_back(static_cast<char>(n & 0xFFU));
  } else {
    out.push_back(static_cast<char>(0x80U | 127U));
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> s) & 0xFFU));
  }
  out.append(reinterpret_cast<const char*>(mask_key), 4);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask_key[i & 3U]));
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFFU));
  std::size_t n = std::min<std::size_t>(reason.size(), kMaxControlPayload - 2);
  // Cut at a character boundary: never leave a partial UTF-8 sequence at the end.
  if (n < reason.size())
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0U) == 0x80U) --n;
  out.append(reason.substr(0, n));
  return out;
}

void make_mask_key(unsigned char out[4]) {
  if (RAND_bytes(out, 4) != 1) throw std::runtime_error("RAND_bytes failed: no entropy for a WebSocket mask key");
}

std::string accept_for(std::string_view key) {
  std::string in(key);
  in.append(kGuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (EVP_Digest(in.data(), in.size(), md, &mdlen, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 unavailable for the WebSocket handshake");
  return base64(md, mdlen);
}

std::string make_key() {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("RAND_bytes failed: no entropy for a WebSocket key");
  return base64(nonce, sizeof nonce);
}

std::string upgrade_headers(std::string_view key) {
  std::string h = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  h.append(key).append("\r\nSec-WebSocket-Version: 13\r\n");
  return h;
}

HandshakeReply check_handshake_reply(std::string_view buf, std::string_view key) {
  HandshakeReply r;
  const std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > kMaxHandshakeBytes) {
    if (buf.size() >= kMaxHandshakeBytes || end != std::string_view::npos) {
      r.status = HandshakeReply::Status::kInvalid;
      r.error = "handshake reply head over " + std::to_string(kMaxHandshakeBytes) + " bytes";
    }
    return r;
  }
  r.head_bytes = end + 4;
  std::string_view head = buf.substr(0, end);
  const std::size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  // "HTTP/1.1 101 Switching Protocols"
  if (status_line.size() < 12 || status_line.substr(0, 8) != "HTTP/1.1" || status_line[8] != ' ' ||
      !std::all_of(status_line.begin() + 9, status_line.begin() + 12, [](char c) { return c >= '0' && c <= '9'; }) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    r.status = HandshakeReply::Status::kInvalid;
    r.error = "handshake reply is not HTTP: \"" + printable(status_line) + "\"";
    return r;
  }
  r.http_status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  if (r.http_status != 101) {
    r.status = HandshakeReply::Status::kRefused;
    r.error = "WebSocket upgrade refused: HTTP " + printable(trim(status_line.substr(9)));
    return r;
  }
  bool upgrade = false;
  bool connection = false;
  bool accepted = false;
  const std::string want = accept_for(key);
  while (!head.empty()) {
    const std::size_t e = head.find("\r\n");
    const std::string_view line = head.substr(0, e);
    head = e == std::string_view::npos ? std::string_view() : head.substr(e + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      r.status = HandshakeReply::Status::kInvalid;
      r.error = "malformed header in the handshake reply: \"" + printable(line) + "\"";
      return r;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Upgrade")) {
      upgrade = upgrade || iequals(value, "websocket");
    } else if (iequals(name, "Connection")) {
      connection = connection || has_token(value, "upgrade");  // repeated: one list (RFC 7230 3.2.2)
    } else if (iequals(name, "Sec-WebSocket-Accept")) {
      accepted = accepted || value == want;
    } else if (iequals(name, "Sec-WebSocket-Extensions") && !value.empty()) {
      r.status = HandshakeReply::Status::kInvalid;
      r.error = "the server chose an extension we did not offer: " + printable(value);
      return r;
    } else if (iequals(name, "Sec-WebSocket-Protocol") && !value.empty()) {
      r.status = HandshakeReply::Status::kInvalid;
      r.error = "the server chose a subprotocol we did not offer: " + printable(value);
      return r;
    }
  }
  if (!upgrade || !connection || !accepted) {
    r.status = HandshakeReply::Status::kInvalid;
    r.error = !upgrade      ? "handshake reply without Upgrade: websocket"
              : !connection ? "handshake reply without Connection: upgrade"
                            : "handshake reply with a wrong or missing Sec-WebSocket-Accept";
    return r;
  }
  r.status = HandshakeReply::Status::kAccepted;
  return r;
}

}  // namespace mdfeed::ws
