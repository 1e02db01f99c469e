// Fuzz target: the RFC 6455 client codec (wire/websocket.hpp). The first byte selects the mode:
//   % 4 == 0 or 1: FrameDecoder. Byte 1 picks the message cap and the padding, bytes 2 and 3 the
//          sizes of the reads (alternating; 0 is an empty read, both 0 = one read); the rest is
//          the byte stream from the server. A sink checks every documented invariant (message
//          len <= cap, capacity >= len + padding with every byte readable, text is UTF-8,
//          control payloads <= 125, close codes allowed, nothing after a close or a failure),
//          and the same stream fed in one read must give the same callbacks, state and code.
//   % 4 == 2: check_handshake_reply on the rest against a fixed key; an accepted head must end
//          at the first blank line and carry the right accept; the bytes after it go through
//          the decoder as above.
//   % 4 == 3: encode_frame / close_payload round trip: byte 1 the opcode, bytes 2-5 the mask
//          key, the rest the payload; unmasked, the decoder must give the payload back.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "wire/websocket.hpp"

namespace {

namespace ws = mdfeed::ws;
using ws::FrameDecoder;
using ws::Opcode;
using State = FrameDecoder::State;

// Length of the UTF-8 sequence starting at s[i] if it is valid (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), else 0.
std::size_t utf8_seq(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_seq(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

class CheckingSink : public ws::FrameSink {
 public:
  CheckingSink(std::size_t max, std::size_t padding) : max_(max), padding_(padding) {}

  void on_message(Opcode op, char* data, std::size_t len, std::size_t capacity) override {
    MDFEED_FUZZ_CHECK(!done);
    MDFEED_FUZZ_CHECK(op == Opcode::kText || op == Opcode::kBinary);
    MDFEED_FUZZ_CHECK(len <= max_);
    MDFEED_FUZZ_CHECK(capacity >= len + padding_);
    MDFEED_FUZZ_CHECK(data != nullptr || (len == 0 && capacity == 0));
    // The message and its padding are read, and the last byte of the claimed capacity: ASan
    // flags a lie. (Not every byte of the capacity: it can be the whole cap, per message.)
    unsigned sum = 0;
    for (std::size_t i = 0; i < len + padding_; ++i) sum += static_cast<unsigned char>(data[i]);
    if (capacity > 0) sum += static_cast<unsigned char>(data[capacity - 1]);
    sink_ = sink_ + sum;
    const std::string_view m(data, len);
    if (op == Opcode::kText) MDFEED_FUZZ_CHECK(valid_utf8(m));
    events.push_back(std::string(op == Opcode::kText ? "T" : "B") + std::string(m));
  }
  void on_ping(std::string_view p) override {
    MDFEED_FUZZ_CHECK(!done);
    MDFEED_FUZZ_CHECK(p.size() <= ws::kMaxControlPayload);
    events.push_back("I" + std::string(p));
  }
  void on_pong(std::string_view p) override {
    MDFEED_FUZZ_CHECK(!done);
    MDFEED_FUZZ_CHECK(p.size() <= ws::kMaxControlPayload);
    events.push_back("O" + std::string(p));
  }
  void on_close(std::uint16_t code, std::string_view reason) override {
    MDFEED_FUZZ_CHECK(!done);
    MDFEED_FUZZ_CHECK((code == ws::kCloseNoStatus && reason.empty()) ||
                      ws::close_code_allowed(code));
    MDFEED_FUZZ_CHECK(code != ws::kCloseNoStatus || reason.empty());
    MDFEED_FUZZ_CHECK(reason.size() <= ws::kMaxControlPayload - 2);
    MDFEED_FUZZ_CHECK(valid_utf8(reason));
    events.push_back("C" + std::to_string(code) + ":" + std::string(reason));
    done = true;
    closed = true;
  }

  std::vector<std::string> events;
  bool done = false;    // nothing may be delivered any more
  bool closed = false;  // on_close was called

 private:
  std::size_t max_, padding_;
  volatile unsigned sink_ = 0;
};

struct Outcome {
  std::vector<std::string> events;
  State state = State::kOpen;
  std::uint16_t code = 0;
};

// Feeds [data, data+len) in reads of the given sizes (cycled), checking after each read.
Outcome decode(const char* data, std::size_t len, std::size_t max, std::size_t padding,
               const std::vector<std::size_t>& reads) {
  FrameDecoder d(max, padding);
  CheckingSink sink(max, padding);
  std::size_t at = 0, k = 0;
  bool all_zero = true;
  for (std::size_t r : reads) all_zero = all_zero && r == 0;
  do {
    std::size_t n = len - at;
    if (!reads.empty() && !all_zero) n = std::min(n, reads[k++ % reads.size()]);
    const State before = d.state();
    const std::size_t events_before = sink.events.size();
    const State s = d.feed(data + at, n, sink);
    at += n;
    MDFEED_FUZZ_CHECK(s == d.state());
    if (before != State::kOpen) {
      // A finished decoder stays as it was and delivers nothing.
      MDFEED_FUZZ_CHECK(s == before);
      MDFEED_FUZZ_CHECK(sink.events.size() == events_before);
    }
    if (sink.closed) MDFEED_FUZZ_CHECK(s == State::kClosed);
    if (s == State::kClosed) MDFEED_FUZZ_CHECK(sink.closed);
    if (s == State::kFailed) {
      MDFEED_FUZZ_CHECK(d.fail_code() == ws::kCloseProtocolError ||
                        d.fail_code() == ws::kCloseInvalidPayload ||
                        d.fail_code() == ws::kCloseTooBig);
      MDFEED_FUZZ_CHECK(!d.fail_reason().empty());
    }
    if (s != State::kOpen) sink.done = true;
  } while (at < len);
  return Outcome{sink.events, d.state(), d.state() == State::kFailed ? d.fail_code() : std::uint16_t{0}};
}

void decoder_mode(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return;
  static constexpr std::size_t kCaps[] = {16, 125, 1000, 65536};  // inputs are <= 4 KB
  static constexpr std::size_t kPads[] = {0, 1, 32, 64};
  const std::size_t max = kCaps[data[1] & 3];
  const std::size_t pad = kPads[(data[1] >> 2) & 3];
  const std::vector<std::size_t> reads = {data[2], data[3]};
  const char* p = reinterpret_cast<const char*>(data + 4);
  const std::size_t n = size - 4;
  const Outcome split = decode(p, n, max, pad, reads);
  const Outcome whole = decode(p, n, max, pad, {});
  MDFEED_FUZZ_CHECK(split.events == whole.events);
  MDFEED_FUZZ_CHECK(split.state == whole.state);
  MDFEED_FUZZ_CHECK(split.code == whole.code);
}

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 1.3

void handshake_mode(const std::uint8_t* data, std::size_t size) {
  const std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);
  const ws::HandshakeReply r = ws::check_handshake_reply(buf, kKey);
  const std::size_t blank = buf.find("\r\n\r\n");
  using S = ws::HandshakeReply::Status;
  switch (r.status) {
    case S::kIncomplete:
      MDFEED_FUZZ_CHECK(blank == std::string_view::npos);
      MDFEED_FUZZ_CHECK(buf.size() <= ws::kMaxHandshakeBytes);
      break;
    case S::kAccepted: {
      MDFEED_FUZZ_CHECK(r.http_status == 101);
      MDFEED_FUZZ_CHECK(blank != std::string_view::npos);
      MDFEED_FUZZ_CHECK(r.head_bytes == blank + 4);  // the head ends at the first blank line
      MDFEED_FUZZ_CHECK(r.head_bytes <= ws::kMaxHandshakeBytes);
      const std::string_view head = buf.substr(0, r.head_bytes);
      MDFEED_FUZZ_CHECK(head.find(ws::accept_for(kKey)) != std::string_view::npos);
      // The verdict depends on the head only.
      const ws::HandshakeReply again = ws::check_handshake_reply(head, kKey);
      MDFEED_FUZZ_CHECK(again.status == S::kAccepted && again.head_bytes == r.head_bytes);
      const ws::HandshakeReply shorter = ws::check_handshake_reply(head.substr(0, head.size() - 1), kKey);
      MDFEED_FUZZ_CHECK(shorter.status != S::kAccepted);
      // What follows is the server's first frames.
      const std::string_view rest = buf.substr(r.head_bytes);
      const Outcome split = decode(rest.data(), rest.size(), 4096, 64, {3, 17});
      const Outcome whole = decode(rest.data(), rest.size(), 4096, 64, {});
      MDFEED_FUZZ_CHECK(split.events == whole.events && split.state == whole.state &&
                        split.code == whole.code);
      break;
    }
    case S::kRefused:
      MDFEED_FUZZ_CHECK(r.http_status != 101);
      MDFEED_FUZZ_CHECK(r.http_status >= 0 && r.http_status <= 999);  // 3DIGIT (RFC 7230)
      MDFEED_FUZZ_CHECK(blank != std::string_view::npos);
      MDFEED_FUZZ_CHECK(!r.error.empty());
      break;
    case S::kInvalid:
      MDFEED_FUZZ_CHECK(!r.error.empty());
      break;
  }
}

void encode_mode(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return;
  static constexpr Opcode kOps[] = {Opcode::kText, Opcode::kBinary, Opcode::kPing, Opcode::kPong,
                                    Opcode::kClose};
  const Opcode op = kOps[data[1] % 5];
  const unsigned char key[4] = {data[2], data[3], data[4], data[5]};
  const std::string_view payload(reinterpret_cast<const char*>(data + 6), size - 6);
  const std::string f = ws::encode_frame(op, payload, key);
  const auto* u = reinterpret_cast<const unsigned char*>(f.data());
  MDFEED_FUZZ_CHECK(f.size() >= 6);
  MDFEED_FUZZ_CHECK(u[0] == (0x80U | static_cast<unsigned>(op)));
  MDFEED_FUZZ_CHECK((u[1] & 0x80U) != 0);
  const unsigned l7 = u[1] & 0x7FU;
  std::size_t hdr = 2;
  std::uint64_t len = l7;
  if (payload.size() <= 125) {
    MDFEED_FUZZ_CHECK(l7 == payload.size());
  } else if (payload.size() <= 0xFFFF) {
    MDFEED_FUZZ_CHECK(l7 == 126);
    hdr = 4;
    len = (std::uint64_t{u[2]} << 8) | u[3];
  } else {
    MDFEED_FUZZ_CHECK(l7 == 127);
    hdr = 10;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | u[i];
  }
  MDFEED_FUZZ_CHECK(len == payload.size());
  MDFEED_FUZZ_CHECK(f.size() == hdr + 4 + payload.size());
  MDFEED_FUZZ_CHECK(std::memcmp(u + hdr, key, 4) == 0);
  std::string server(f.substr(0, hdr));
  server[1] = static_cast<char>(u[1] & 0x7FU);
  for (std::size_t i = 0; i < payload.size(); ++i)
    server.push_back(static_cast<char>(u[hdr + 4 + i] ^ key[i % 4]));
  MDFEED_FUZZ_CHECK(std::string_view(server).substr(hdr) == payload);

  // What the server reads back.
  const Outcome o = decode(server.data(), server.size(), 65536, 16, {});
  const std::string p(payload);
  switch (op) {
    case Opcode::kBinary:
      MDFEED_FUZZ_CHECK(o.state == State::kOpen && o.events == std::vector<std::string>{"B" + p});
      break;
    case Opcode::kText:
      if (valid_utf8(payload)) {
        MDFEED_FUZZ_CHECK(o.state == State::kOpen &&
                          o.events == std::vector<std::string>{"T" + p});
      } else {
        MDFEED_FUZZ_CHECK(o.state == State::kFailed && o.code == ws::kCloseInvalidPayload &&
                          o.events.empty());
      }
      break;
    case Opcode::kPing:
    case Opcode::kPong:
      if (payload.size() <= ws::kMaxControlPayload) {
        MDFEED_FUZZ_CHECK(o.state == State::kOpen &&
                          o.events == std::vector<std::string>{
                                          (op == Opcode::kPing ? "I" : "O") + p});
      } else {
        MDFEED_FUZZ_CHECK(o.state == State::kFailed && o.code == ws::kCloseProtocolError);
      }
      break;
    default:
      if (payload.size() > ws::kMaxControlPayload)
        MDFEED_FUZZ_CHECK(o.state == State::kFailed && o.code == ws::kCloseProtocolError);
      break;
  }

  // close_payload: the code in network order, then the longest prefix of the reason that fits
  // in 123 bytes and ends on a character boundary.
  const auto code = static_cast<std::uint16_t>((data[2] << 8) | data[3]);
  const std::string cp = ws::close_payload(code, payload);
  MDFEED_FUZZ_CHECK(cp.size() >= 2 && cp.size() <= ws::kMaxControlPayload);
  MDFEED_FUZZ_CHECK(static_cast<unsigned char>(cp[0]) == (code >> 8) &&
                    static_cast<unsigned char>(cp[1]) == (code & 0xFF));
  const std::string_view reason = std::string_view(cp).substr(2);
  MDFEED_FUZZ_CHECK(payload.substr(0, reason.size()) == reason);
  if (valid_utf8(payload)) {
    MDFEED_FUZZ_CHECK(valid_utf8(reason));
    if (reason.size() < payload.size())
      MDFEED_FUZZ_CHECK(reason.size() + utf8_seq(payload, reason.size()) > 123);
    if (ws::close_code_allowed(code)) {
      // A close frame we would send is one the decoder accepts.
      const std::string cf = std::string("\x88", 1) + static_cast<char>(cp.size()) + cp;
      const Outcome c = decode(cf.data(), cf.size(), 1000, 0, {});
      MDFEED_FUZZ_CHECK(c.state == State::kClosed &&
                        c.events == std::vector<std::string>{"C" + std::to_string(code) + ":" +
                                                             std::string(reason)});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 4) {
    case 0:
    case 1:
      decoder_mode(data, size);
      break;
    case 2:
      handshake_mode(data, size);
      break;
    default:
      encode_mode(data, size);
      break;
  }
  return 0;
}
