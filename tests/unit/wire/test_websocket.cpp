// RFC 6455 client codec (wire/websocket.hpp): the frame decoder (every rule the header says it
// enforces, with its close code), the decoder's independence from how the bytes are split into
// reads, the client frame encoder, and the opening handshake (request and reply check).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/websocket.hpp"

using mdfeed::ws::FrameDecoder;
using mdfeed::ws::FrameSink;
using mdfeed::ws::HandshakeReply;
using mdfeed::ws::Opcode;
using State = mdfeed::ws::FrameDecoder::State;
namespace ws = mdfeed::ws;

namespace {

// ---- helpers ------------------------------------------------------------------------------

// Records every callback as one line, in order, and checks the buffer contract of on_message.
class RecordingSink : public FrameSink {
 public:
  explicit RecordingSink(std::size_t padding) : padding_(padding) {}

  void on_message(Opcode op, char* data, std::size_t len, std::size_t capacity) override {
    if (op != Opcode::kText && op != Opcode::kBinary) bad_ = "on_message with a control opcode";
    if (capacity < len + padding_) bad_ = "capacity < len + padding";
    if (data == nullptr && (len > 0 || padding_ > 0)) bad_ = "null data";
    if (data != nullptr) {
      // Read the message, its padding and the last byte of the claimed capacity: ASan flags
      // a lie about either.
      unsigned sum = 0;
      for (std::size_t i = 0; i < len + padding_ && i < capacity; ++i)
        sum += static_cast<unsigned char>(data[i]);
      if (capacity > 0) sum += static_cast<unsigned char>(data[capacity - 1]);
      touched_ += sum;
    }
    ++messages;
    max_len = std::max(max_len, len);
    events.push_back(std::string(op == Opcode::kText ? "text:" : "binary:") +
                     std::string(data == nullptr ? "" : std::string(data, len)));
  }
  void on_ping(std::string_view p) override { events.push_back("ping:" + std::string(p)); }
  void on_pong(std::string_view p) override { events.push_back("pong:" + std::string(p)); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }

  std::vector<std::string> events;
  std::size_t messages = 0;
  std::size_t max_len = 0;
  std::string bad_;  // empty while the buffer contract held

 private:
  std::size_t padding_;
  unsigned touched_ = 0;
};

constexpr std::size_t kCap = 1 << 17;  // above the largest message here (70000 bytes)
constexpr std::size_t kPad = 64;

// A server frame (never masked), minimal length encoding.
std::string frame(bool fin, unsigned op, std::string_view payload, unsigned rsv = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80U : 0U) | ((rsv & 7U) << 4) | (op & 0x0FU)));
  const std::uint64_t n = payload.size();
  if (n <= 125) {
    f.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(126));
    f.push_back(static_cast<char>((n >> 8) & 0xFF));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((n >> s) & 0xFF));
  }
  f.append(payload);
  return f;
}
std::string text(std::string_view p, bool fin = true) { return frame(fin, 0x1, p); }
std::string binary(std::string_view p, bool fin = true) { return frame(fin, 0x2, p); }
std::string cont(std::string_view p, bool fin) { return frame(fin, 0x0, p); }
std::string ping(std::string_view p) { return frame(true, 0x9, p); }
std::string pong(std::string_view p) { return frame(true, 0xA, p); }
std::string close_frame(std::string_view p) { return frame(true, 0x8, p); }
std::string close_with(std::uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return close_frame(p);
}

struct Run {
  State state = State::kOpen;
  std::uint16_t fail_code = 0;
  std::string fail_reason;
  std::vector<std::string> events;
  std::uint64_t frames = 0;
  std::string bad;
  bool returns_match_state = true;
};

// Feeds `bytes` cut at the given offsets (ascending, each in [0, size]).
Run run_split(std::string_view bytes, const std::vector<std::size_t>& cuts,
              std::size_t cap = kCap, std::size_t pad = kPad) {
  FrameDecoder d(cap, pad);
  RecordingSink sink(pad);
  Run r;
  std::size_t at = 0;
  auto feed = [&](std::size_t to) {
    const State s = d.feed(bytes.data() + at, to - at, sink);
    if (s != d.state()) r.returns_match_state = false;
    at = to;
  };
  for (std::size_t c : cuts) feed(c);
  feed(bytes.size());
  r.state = d.state();
  r.fail_code = d.fail_code();
  r.fail_reason = d.fail_reason();
  r.events = sink.events;
  r.frames = d.frames();
  r.bad = sink.bad_;
  return r;
}
Run run(std::string_view bytes, std::size_t cap = kCap, std::size_t pad = kPad) {
  return run_split(bytes, {}, cap, pad);
}
Run run_bytewise(std::string_view bytes, std::size_t cap = kCap, std::size_t pad = kPad) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  return run_split(bytes, cuts, cap, pad);
}

std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

void require_failed(const Run& r, std::uint16_t code) {
  INFO("fail_reason: " << r.fail_reason);
  REQUIRE(r.state == State::kFailed);
  REQUIRE(r.fail_code == code);
  REQUIRE_FALSE(r.fail_reason.empty());
  REQUIRE(r.returns_match_state);
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string b64decode(std::string_view in, bool& ok) {
  static const std::string_view kAlpha =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  ok = in.size() % 4 == 0;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) ok = false;  // data after padding
    const auto v = kAlpha.find(c);
    if (v == std::string_view::npos) {
      ok = false;
      return out;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2) ok = false;
  return out;
}

// RFC 6455 section 1.3.
constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string good_reply(std::string_view accept = kRfcAccept) {
  return "HTTP/1.1 101 Switching Protocols\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(accept) + "\r\n\r\n";
}

}  // namespace

// ---- decoding -----------------------------------------------------------------------------

TEST_CASE("an unfragmented text frame with a 7-bit length is delivered", "[decode]") {
  const Run r = run(text("hello"));
  REQUIRE(r.state == State::kOpen);
  REQUIRE(r.returns_match_state);
  REQUIRE(r.bad.empty());
  REQUIRE(r.events == std::vector<std::string>{"text:hello"});
  REQUIRE(r.frames == 1);

  const Run r125 = run(text(pattern(125)));
  REQUIRE(r125.events == std::vector<std::string>{"text:" + pattern(125)});
}

TEST_CASE("an empty text message is delivered with len 0 and the padding", "[decode]") {
  const Run r = run(text(""));
  REQUIRE(r.state == State::kOpen);
  REQUIRE(r.bad.empty());
  REQUIRE(r.events == std::vector<std::string>{"text:"});
}

TEST_CASE("16-bit length frames (126) are delivered", "[decode]") {
  for (std::size_t n : {std::size_t{126}, std::size_t{127}, std::size_t{300}, std::size_t{65535}}) {
    INFO("payload " << n);
    const std::string f = text(pattern(n, 3));
    REQUIRE(static_cast<unsigned char>(f[1]) == 126);
    const Run r = run(f);
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.bad.empty());
    REQUIRE(r.events == std::vector<std::string>{"text:" + pattern(n, 3)});
  }
  const Run b = run_bytewise(text(pattern(1000)));
  REQUIRE(b.events == std::vector<std::string>{"text:" + pattern(1000)});
}

TEST_CASE("64-bit length frames (127) are delivered", "[decode]") {
  for (std::size_t n : {std::size_t{65536}, std::size_t{70000}}) {
    INFO("payload " << n);
    const std::string f = binary(pattern(n, 5));
    REQUIRE(static_cast<unsigned char>(f[1]) == 127);
    const Run r = run(f);
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.bad.empty());
    REQUIRE(r.events == std::vector<std::string>{"binary:" + pattern(n, 5)});
  }
  // The header itself split byte by byte (the 8 length bytes arrive one per read).
  const std::string f = text(pattern(65536));
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i <= 10; ++i) cuts.push_back(i);
  const Run r = run_split(f, cuts);
  REQUIRE(r.events == std::vector<std::string>{"text:" + pattern(65536)});
}

TEST_CASE("binary frames are delivered as binary, without a UTF-8 check", "[decode]") {
  const std::string payload("\x00\xff\xfe\xc0\x80\xed\xa0\x80", 8);
  const Run r = run(binary(payload) + binary(""));
  REQUIRE(r.state == State::kOpen);
  REQUIRE(r.bad.empty());
  REQUIRE(r.events == std::vector<std::string>{"binary:" + payload, "binary:"});
}

TEST_CASE("a fragmented message with control frames between fragments", "[decode]") {
  const std::string bytes = text("Hel", false) + ping("p1") + cont("lo ", false) + pong("q") +
                            cont("", false) + cont("World", true) + text("next");
  FrameDecoder d(kCap, kPad);
  RecordingSink sink(kPad);
  // Up to the ping: nothing yet. After the ping: the ping only.
  const std::size_t first = text("Hel", false).size();
  const std::size_t after_ping = first + ping("p1").size();
  REQUIRE(d.feed(bytes.data(), first, sink) == State::kOpen);
  REQUIRE(sink.events.empty());
  REQUIRE(d.feed(bytes.data() + first, after_ping - first, sink) == State::kOpen);
  REQUIRE(sink.events == std::vector<std::string>{"ping:p1"});
  REQUIRE(d.feed(bytes.data() + after_ping, bytes.size() - after_ping, sink) == State::kOpen);
  REQUIRE(sink.events ==
          std::vector<std::string>{"ping:p1", "pong:q", "text:Hello World", "text:next"});
  REQUIRE(sink.bad_.empty());
  REQUIRE(d.frames() == 7);
}

TEST_CASE("a fragmented binary message is delivered once, as binary", "[decode]") {
  const Run r = run(binary("ab", false) + cont("cd", false) + cont("ef", true));
  REQUIRE(r.state == State::kOpen);
  REQUIRE(r.events == std::vector<std::string>{"binary:abcdef"});
}

TEST_CASE("ping and pong payloads up to 125 bytes are delivered", "[decode]") {
  const Run r = run(ping("") + ping(pattern(125)) + pong(pattern(125, 1)) + pong(""));
  REQUIRE(r.state == State::kOpen);
  REQUIRE(r.events == std::vector<std::string>{"ping:", "ping:" + pattern(125),
                                               "pong:" + pattern(125, 1), "pong:"});
}

namespace {

// A stream with every frame shape the decoder sees on a live connection, ending in a close frame
// followed by bytes that must not be delivered.
std::string mixed_stream() {
  return text("hello") + binary(pattern(300)) + text("H\xc3", false) + ping("p1") +
         cont("\xa9llo", false) + pong("") + cont("!", true) + text("") +
         text(pattern(130, 2)) + close_with(1000, "done") + text("after close");
}
const std::vector<std::string> kMixedEvents = {
    "text:hello",      "binary:" + pattern(300), "ping:p1", "pong:",
    "text:H\xc3\xa9llo!", "text:",                  "text:" + pattern(130, 2), "close:1000:done"};

// Valid frames, then a protocol error: a new text frame inside a fragmented message.
std::string failing_stream() {
  return text("ok") + ping("x") + text("a", false) + text("b") + text("never");
}
const std::vector<std::string> kFailingEvents = {"text:ok", "ping:x"};

}  // namespace

TEST_CASE("the same bytes give the same callbacks however they are split into reads",
          "[decode][split]") {
  struct Case {
    const char* name;
    std::string bytes;
    std::vector<std::string> events;
    State state;
    std::uint16_t code;
  };
  const std::vector<Case> cases = {
      {"mixed, ending in close", mixed_stream(), kMixedEvents, State::kClosed, 0},
      {"ending in a protocol error", failing_stream(), kFailingEvents, State::kFailed,
       ws::kCloseProtocolError},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const Run whole = run(c.bytes);
    REQUIRE(whole.events == c.events);
    REQUIRE(whole.state == c.state);
    if (c.state == State::kFailed) REQUIRE(whole.fail_code == c.code);
    REQUIRE(whole.bad.empty());

    const Run bytewise = run_bytewise(c.bytes);
    REQUIRE(bytewise.events == c.events);
    REQUIRE(bytewise.state == c.state);
    REQUIRE(bytewise.fail_code == whole.fail_code);
    REQUIRE(bytewise.returns_match_state);
    REQUIRE(bytewise.bad.empty());

    for (std::size_t cut = 0; cut <= c.bytes.size(); ++cut) {
      const Run two = run_split(c.bytes, {cut});
      if (two.events != c.events || two.state != c.state || two.fail_code != whole.fail_code ||
          !two.bad.empty()) {
        INFO("split at " << cut << " of " << c.bytes.size());
        REQUIRE(two.events == c.events);
        REQUIRE(two.state == c.state);
        REQUIRE(two.fail_code == whole.fail_code);
        REQUIRE(two.bad.empty());
      }
    }
    // Three chunks, a few shapes, including empty reads.
    for (std::size_t a = 0; a <= c.bytes.size(); a += 7) {
      const Run three = run_split(c.bytes, {a, a, std::min(c.bytes.size(), a + 3)});
      INFO("cuts at " << a << ", " << a << ", " << a + 3);
      REQUIRE(three.events == c.events);
      REQUIRE(three.state == c.state);
    }
  }
}

TEST_CASE("every delivered message has capacity >= len + padding", "[decode][padding]") {
  for (std::size_t pad : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{4096}}) {
    INFO("padding " << pad);
    // A long message then short ones (the buffer is reused), a fragmented one, an empty one.
    const std::string bytes = text(pattern(5000)) + text("x") + text("") +
                              binary(pattern(100), false) + cont(pattern(200), true) +
                              text(pattern(70000));
    FrameDecoder d(kCap, pad);
    RecordingSink sink(pad);
    REQUIRE(d.feed(bytes.data(), bytes.size(), sink) == State::kOpen);
    REQUIRE(sink.messages == 5);
    REQUIRE(sink.bad_.empty());
    REQUIRE(sink.max_len == 70000);
  }
  // A message exactly at the cap, with the padding past it.
  FrameDecoder d(1000, 64);
  RecordingSink sink(64);
  const std::string f = binary(pattern(1000));
  REQUIRE(d.feed(f.data(), f.size(), sink) == State::kOpen);
  REQUIRE(sink.messages == 1);
  REQUIRE(sink.bad_.empty());
}

// ---- failures -----------------------------------------------------------------------------

TEST_CASE("a masked frame from the server fails with 1002 (5.1)", "[decode][fail]") {
  const std::string masked = std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  require_failed(run(masked), ws::kCloseProtocolError);
  require_failed(run(text("ok") + masked), ws::kCloseProtocolError);
  REQUIRE(run(text("ok") + masked).events == std::vector<std::string>{"text:ok"});
  // A masked ping too, and a masked frame with no payload.
  require_failed(run(std::string("\x89\x80\x01\x02\x03\x04", 6)), ws::kCloseProtocolError);
}

TEST_CASE("RSV bits without an extension fail with 1002 (5.2)", "[decode][fail]") {
  const unsigned rsv = GENERATE(1U, 2U, 4U, 7U);
  INFO("rsv " << rsv);
  require_failed(run(frame(true, 0x1, "x", rsv)), ws::kCloseProtocolError);
  require_failed(run(frame(true, 0x9, "", rsv)), ws::kCloseProtocolError);
  require_failed(run(text("a", false) + frame(true, 0x0, "b", rsv)), ws::kCloseProtocolError);
  REQUIRE(run(frame(true, 0x1, "x", rsv)).events.empty());
}

TEST_CASE("reserved opcodes fail with 1002 (5.2)", "[decode][fail]") {
  const unsigned op = GENERATE(0x3U, 0x4U, 0x5U, 0x6U, 0x7U, 0xBU, 0xCU, 0xDU, 0xEU, 0xFU);
  INFO("opcode " << op);
  const Run r = run(frame(true, op, "") + text("not delivered"));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events.empty());
  require_failed(run(frame(true, op, "abc")), ws::kCloseProtocolError);
  require_failed(run(frame(false, op, "abc")), ws::kCloseProtocolError);
}

TEST_CASE("a 64-bit length with the top bit set fails with 1002, not 1009 (5.2)",
          "[decode][fail]") {
  const std::string hdr = std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10) + "abcd";
  require_failed(run(hdr), ws::kCloseProtocolError);
  require_failed(run_bytewise(hdr), ws::kCloseProtocolError);
  require_failed(run(std::string("\x81\x7f\xff\xff\xff\xff\xff\xff\xff\xff", 10) + "x"),
                 ws::kCloseProtocolError);
}

TEST_CASE("a continuation frame with no message in progress fails with 1002 (5.4)",
          "[decode][fail]") {
  require_failed(run(cont("abc", true)), ws::kCloseProtocolError);
  require_failed(run(cont("abc", false)), ws::kCloseProtocolError);
  // After a completed message there is no message in progress either.
  const Run r = run(text("done") + cont("more", true));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events == std::vector<std::string>{"text:done"});
  const Run r2 = run(text("a", false) + cont("b", true) + cont("c", true));
  require_failed(r2, ws::kCloseProtocolError);
  REQUIRE(r2.events == std::vector<std::string>{"text:ab"});
}

TEST_CASE("a new data frame during a fragmented message fails with 1002 (5.4)",
          "[decode][fail]") {
  const Run r = run(text("a", false) + text("b"));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events.empty());
  require_failed(run(text("a", false) + binary("b")), ws::kCloseProtocolError);
  require_failed(run(binary("a", false) + text("b", false)), ws::kCloseProtocolError);
  require_failed(run(text("a", false) + ping("") + text("b")), ws::kCloseProtocolError);
}

TEST_CASE("a control frame over 125 bytes fails with 1002 (5.5)", "[decode][fail]") {
  const unsigned op = GENERATE(0x8U, 0x9U, 0xAU);
  INFO("opcode " << op);
  std::string p = pattern(126);
  if (op == 0x8) {  // a valid code, so only the length is wrong
    p[0] = '\x03';
    p[1] = '\xe8';
  }
  const Run r = run(frame(true, op, p));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events.empty());
  require_failed(run_bytewise(frame(true, op, p)), ws::kCloseProtocolError);
  require_failed(run(frame(true, op, pattern(70000))), ws::kCloseProtocolError);
}

TEST_CASE("a control frame without FIN fails with 1002 (5.5)", "[decode][fail]") {
  const unsigned op = GENERATE(0x8U, 0x9U, 0xAU);
  INFO("opcode " << op);
  const Run r = run(frame(false, op, ""));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events.empty());
  require_failed(run(text("a", false) + frame(false, op, "")), ws::kCloseProtocolError);
}

TEST_CASE("a close payload of 1 byte fails with 1002 (5.5.1)", "[decode][fail]") {
  const Run r = run(close_frame("\x03"));
  require_failed(r, ws::kCloseProtocolError);
  REQUIRE(r.events.empty());
}

TEST_CASE("close codes: the allowed ones are delivered, the others fail with 1002 (7.4)",
          "[decode][fail][close]") {
  SECTION("allowed") {
    const std::uint16_t code = GENERATE(std::uint16_t{1000}, std::uint16_t{1001},
                                        std::uint16_t{1002}, std::uint16_t{1003},
                                        std::uint16_t{1007}, std::uint16_t{1008},
                                        std::uint16_t{1009}, std::uint16_t{1010},
                                        std::uint16_t{1011}, std::uint16_t{1012},
                                        std::uint16_t{1013}, std::uint16_t{1014},
                                        std::uint16_t{3000}, std::uint16_t{3999},
                                        std::uint16_t{4000}, std::uint16_t{4999});
    INFO("code " << code);
    REQUIRE(ws::close_code_allowed(code));
    const Run r = run(close_with(code, "r"));
    REQUIRE(r.state == State::kClosed);
    REQUIRE(r.events == std::vector<std::string>{"close:" + std::to_string(code) + ":r"});
  }
  SECTION("not allowed") {
    const std::uint16_t code = GENERATE(std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{999},
                                        std::uint16_t{1004}, std::uint16_t{1005},
                                        std::uint16_t{1006}, std::uint16_t{1015},
                                        std::uint16_t{1016}, std::uint16_t{1100},
                                        std::uint16_t{2000}, std::uint16_t{2999},
                                        std::uint16_t{5000}, std::uint16_t{65535});
    INFO("code " << code);
    REQUIRE_FALSE(ws::close_code_allowed(code));
    const Run r = run(close_with(code, ""));
    require_failed(r, ws::kCloseProtocolError);
    REQUIRE(r.events.empty());
  }
}

TEST_CASE("a close reason that is not UTF-8 fails with 1007 (5.5.1)", "[decode][fail][close]") {
  const std::string reason = GENERATE(std::string("\xff"), std::string("ok\xc3"),
                                      std::string("\xc0\xaf"), std::string("\xed\xa0\x80"));
  const Run r = run(close_with(1000, reason));
  require_failed(r, ws::kCloseInvalidPayload);
  REQUIRE(r.events.empty());
  // A valid multi-byte reason is fine.
  const Run ok = run(close_with(1001, "bient\xc3\xb4t \xe2\x82\xac \xf0\x9f\x98\x80"));
  REQUIRE(ok.state == State::kClosed);
  REQUIRE(ok.events ==
          std::vector<std::string>{"close:1001:bient\xc3\xb4t \xe2\x82\xac \xf0\x9f\x98\x80"});
}

TEST_CASE("a text message that is not UTF-8 fails with 1007 (8.1)", "[decode][fail][utf8]") {
  SECTION("in one frame") {
    const std::string bad = GENERATE(
        std::string("\xff"), std::string("abc\xfe"), std::string("\x80"),      // bad lead bytes
        std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),                  // overlong
        std::string("\xf0\x80\x80\xaf"), std::string("\xc1\xbf"),
        std::string("\xed\xa0\x80"), std::string("\xed\xbf\xbf"),             // surrogates
        std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),      // > U+10FFFF
        std::string("\xe2\x82"), std::string("ok\xf0\x9f\x98"),               // truncated at end
        std::string("\xe2\x28\xa1"), std::string("\xc3(") );                  // bad continuation
    const Run r = run(text(bad) + text("not delivered"));
    require_failed(r, ws::kCloseInvalidPayload);
    REQUIRE(r.events.empty());
  }
  SECTION("split across fragments") {
    // Each fragment's bytes would be a valid prefix, the whole is not.
    const Run r = run(text("abc\xe2", false) + cont("\x28\xa1", true));
    require_failed(r, ws::kCloseInvalidPayload);
    REQUIRE(r.events.empty());
    // A message that ends inside a character.
    require_failed(run(text("abc", false) + cont("\xf0\x9f", false) + cont("\x98", true)),
                   ws::kCloseInvalidPayload);
    // Surrogate whose lead is in one fragment and rest in the next.
    require_failed(run(text("\xed", false) + cont("\xa0\x80", true)), ws::kCloseInvalidPayload);
  }
  SECTION("a fragment that can never become valid fails before the message ends") {
    // "checked ... for each fragment so far where possible": 0xFF is invalid whatever follows.
    const std::string bytes = text("ok\xff", false);
    FrameDecoder d(kCap, kPad);
    RecordingSink sink(kPad);
    REQUIRE(d.feed(bytes.data(), bytes.size(), sink) == State::kFailed);
    REQUIRE(d.fail_code() == ws::kCloseInvalidPayload);
    REQUIRE(sink.events.empty());
  }
  SECTION("valid multi-byte characters split across fragments do not fail") {
    const Run r = run(text("caf\xc3", false) + cont("\xa9 \xe2", false) + ping("p") +
                      cont("\x82", false) + cont("\xac \xf0", false) + cont("\x9f", false) +
                      cont("\x98", false) + cont("\x80", true));
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.events ==
            std::vector<std::string>{"ping:p", "text:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"});
    // Fragments of one byte each, fed one byte at a time.
    const std::string s = "\xf4\x8f\xbf\xbf\xef\xbf\xbf\xc2\x80";
    std::string bytes = text(s.substr(0, 1), false);
    for (std::size_t i = 1; i + 1 < s.size(); ++i) bytes += cont(s.substr(i, 1), false);
    bytes += cont(s.substr(s.size() - 1), true);
    const Run b = run_bytewise(bytes);
    REQUIRE(b.state == State::kOpen);
    REQUIRE(b.events == std::vector<std::string>{"text:" + s});
  }
}

TEST_CASE("a message over the cap fails with 1009 (10.4)", "[decode][fail][cap]") {
  constexpr std::size_t kSmall = 100;
  SECTION("exactly the cap is accepted") {
    const Run r = run(text(pattern(kSmall)), kSmall);
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.events == std::vector<std::string>{"text:" + pattern(kSmall)});
    const Run f = run(text(pattern(40), false) + cont(pattern(60), true), kSmall);
    REQUIRE(f.state == State::kOpen);
    REQUIRE(f.events == std::vector<std::string>{"text:" + pattern(40) + pattern(60)});
  }
  SECTION("in one frame") {
    const Run r = run(text(pattern(kSmall + 1)) + text("x"), kSmall);
    require_failed(r, ws::kCloseTooBig);
    REQUIRE(r.events.empty());
    require_failed(run(binary(pattern(70000)), kSmall), ws::kCloseTooBig);
  }
  SECTION("a huge announced length fails without waiting for the payload") {
    // 2^40 bytes announced; only the header and one payload byte arrive.
    const std::string hdr =
        std::string("\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00", 10) + "a";
    require_failed(run(hdr, kSmall), ws::kCloseTooBig);
  }
  SECTION("across fragments") {
    const Run r = run(text(pattern(60), false) + ping("p") + cont(pattern(41), true), kSmall);
    require_failed(r, ws::kCloseTooBig);
    REQUIRE(r.events == std::vector<std::string>{"ping:p"});
    require_failed(run(binary(pattern(50), false) + cont(pattern(50), false) + cont("x", false),
                       kSmall),
                   ws::kCloseTooBig);
    require_failed(run_bytewise(binary(pattern(99), false) + cont("", false) + cont("xy", true),
                                kSmall),
                   ws::kCloseTooBig);
  }
  SECTION("control frames do not count toward the cap") {
    const Run r = run(text(pattern(60), false) + ping(pattern(100)) + cont(pattern(40), true),
                      kSmall);
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.events.size() == 2);
  }
}

TEST_CASE("nothing is delivered after kFailed", "[decode][fail]") {
  FrameDecoder d(kCap, kPad);
  RecordingSink sink(kPad);
  const std::string bytes = text("a") + cont("x", true) + text("b") + ping("p");
  REQUIRE(d.feed(bytes.data(), bytes.size(), sink) == State::kFailed);
  REQUIRE(sink.events == std::vector<std::string>{"text:a"});
  const std::uint16_t code = d.fail_code();
  REQUIRE(code == ws::kCloseProtocolError);
  const std::string more = text("later") + ping("p") + close_with(1000, "");
  REQUIRE(d.feed(more.data(), more.size(), sink) == State::kFailed);
  REQUIRE(d.feed(more.data(), 1, sink) == State::kFailed);
  REQUIRE(sink.events == std::vector<std::string>{"text:a"});
  REQUIRE(d.state() == State::kFailed);
  REQUIRE(d.fail_code() == code);
}

// ---- close ------------------------------------------------------------------------------

TEST_CASE("a close frame without payload: kCloseNoStatus and an empty reason", "[close]") {
  const Run r = run(close_frame(""));
  REQUIRE(r.state == State::kClosed);
  REQUIRE(r.returns_match_state);
  REQUIRE(r.events == std::vector<std::string>{"close:1005:"});
}

TEST_CASE("a close frame's code and reason are delivered", "[close]") {
  const Run r = run(close_with(1000, "bye"));
  REQUIRE(r.state == State::kClosed);
  REQUIRE(r.events == std::vector<std::string>{"close:1000:bye"});
  const Run c = run(close_with(4001, ""));
  REQUIRE(c.events == std::vector<std::string>{"close:4001:"});
  // The longest reason that fits: 123 bytes.
  const Run l = run(close_with(1001, pattern(123)));
  REQUIRE(l.state == State::kClosed);
  REQUIRE(l.events == std::vector<std::string>{"close:1001:" + pattern(123)});
  REQUIRE(run_bytewise(close_with(1000, "bye")).events ==
          std::vector<std::string>{"close:1000:bye"});
}

TEST_CASE("nothing is delivered after a close frame", "[close]") {
  FrameDecoder d(kCap, kPad);
  RecordingSink sink(kPad);
  const std::string bytes = text("before") + close_with(1000, "x") + text("after") + ping("p");
  REQUIRE(d.feed(bytes.data(), bytes.size(), sink) == State::kClosed);
  REQUIRE(sink.events == std::vector<std::string>{"text:before", "close:1000:x"});
  const std::string more = text("later") + close_with(1000, "again");
  REQUIRE(d.feed(more.data(), more.size(), sink) == State::kClosed);
  REQUIRE(sink.events == std::vector<std::string>{"text:before", "close:1000:x"});
  REQUIRE(d.state() == State::kClosed);
  // Even a garbage byte after close is ignored, not a failure.
  REQUIRE(d.feed("\xff\xff", 2, sink) == State::kClosed);
}

TEST_CASE("a close frame between fragments ends the connection; the message is dropped",
          "[close]") {
  const Run r = run(text("part", false) + close_with(1001, "") + cont("rest", true));
  REQUIRE(r.state == State::kClosed);
  REQUIRE(r.events == std::vector<std::string>{"close:1001:"});
}

// ---- encode -------------------------------------------------------------------------------

TEST_CASE("encode_frame: FIN, opcode, mask bit, length encodings, masked payload", "[encode]") {
  const unsigned char key[4] = {0x12, 0x34, 0xAB, 0xCD};
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126},
                        std::size_t{65535}, std::size_t{65536}, std::size_t{70001}}) {
    INFO("payload " << n);
    const std::string payload = pattern(n, 11);
    const std::string f = ws::encode_frame(Opcode::kBinary, payload, key);
    const auto* u = reinterpret_cast<const unsigned char*>(f.data());
    REQUIRE(f.size() >= 6);
    REQUIRE(u[0] == 0x82);          // FIN, no RSV, binary
    REQUIRE((u[1] & 0x80) != 0);    // masked
    std::size_t hdr = 0;
    std::uint64_t len = 0;
    if (n <= 125) {
      REQUIRE(static_cast<std::size_t>(u[1] & 0x7F) == n);
      hdr = 2;
      len = u[1] & 0x7FU;
    } else if (n <= 65535) {
      REQUIRE((u[1] & 0x7F) == 126);
      hdr = 4;
      len = (std::uint64_t{u[2]} << 8) | u[3];
    } else {
      REQUIRE((u[1] & 0x7F) == 127);
      hdr = 10;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | u[i];
    }
    REQUIRE(len == n);
    REQUIRE(f.size() == hdr + 4 + n);
    REQUIRE(std::memcmp(u + hdr, key, 4) == 0);
    std::string unmasked(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
      unmasked[i] = static_cast<char>(u[hdr + 4 + i] ^ key[i % 4]);
    REQUIRE(unmasked == payload);
    if (n > 0) REQUIRE(f.substr(hdr + 4) != payload);  // the key actually changed the bytes

    // What the server would read: unmasked, the decoder gives the payload back.
    std::string server(f.substr(0, hdr));
    server[1] = static_cast<char>(u[1] & 0x7F);
    server += unmasked;
    const Run r = run(server);
    REQUIRE(r.state == State::kOpen);
    REQUIRE(r.events == std::vector<std::string>{"binary:" + payload});
  }
}

TEST_CASE("encode_frame: every opcode keeps FIN and its opcode", "[encode]") {
  const unsigned char key[4] = {1, 2, 3, 4};
  const std::pair<Opcode, unsigned> ops[] = {{Opcode::kText, 0x81},
                                             {Opcode::kBinary, 0x82},
                                             {Opcode::kClose, 0x88},
                                             {Opcode::kPing, 0x89},
                                             {Opcode::kPong, 0x8A}};
  for (const auto& [op, b0] : ops) {
    const std::string f = ws::encode_frame(op, "hi", key);
    REQUIRE(f.size() == 2 + 4 + 2);
    REQUIRE(static_cast<unsigned char>(f[0]) == b0);
    REQUIRE(static_cast<unsigned char>(f[1]) == 0x82);
    REQUIRE(static_cast<unsigned char>(f[6]) == ('h' ^ 1));
    REQUIRE(static_cast<unsigned char>(f[7]) == ('i' ^ 2));
  }
}

TEST_CASE("make_mask_key gives fresh keys", "[encode]") {
  unsigned char a[4] = {}, b[4] = {}, c[4] = {};
  ws::make_mask_key(a);
  ws::make_mask_key(b);
  ws::make_mask_key(c);
  // Two 32-bit random keys collide with probability 2^-32; three equal never happens.
  const bool ab = std::memcmp(a, b, 4) == 0, bc = std::memcmp(b, c, 4) == 0;
  REQUIRE_FALSE((ab || bc));
}

TEST_CASE("close_payload: code in network order, reason cut at 123 bytes on a boundary",
          "[encode][close]") {
  REQUIRE(ws::close_payload(1000, "") == std::string("\x03\xe8", 2));
  REQUIRE(ws::close_payload(4001, "bye") == std::string("\x0f\xa1" "bye", 5));
  REQUIRE(ws::close_payload(1002, "proto") == std::string("\x03\xea" "proto", 7));

  const std::string a123 = std::string(123, 'a');
  REQUIRE(ws::close_payload(1000, a123) == std::string("\x03\xe8", 2) + a123);
  REQUIRE(ws::close_payload(1000, std::string(200, 'a')) == std::string("\x03\xe8", 2) + a123);

  // 121 + 2 = 123: fits whole.
  const std::string fits = std::string(121, 'a') + "\xc3\xa9";
  REQUIRE(ws::close_payload(1000, fits).substr(2) == fits);
  // 122 + 2 = 124: the 2-byte character does not fit and is dropped whole.
  REQUIRE(ws::close_payload(1000, std::string(122, 'a') + "\xc3\xa9").substr(2) ==
          std::string(122, 'a'));
  // 121 + 3 (euro sign): cut to 121.
  REQUIRE(ws::close_payload(1000, std::string(121, 'a') + "\xe2\x82\xac" "zzz").substr(2) ==
          std::string(121, 'a'));
  // 120 + 4 (emoji): cut to 120; 119 + 4 = 123 fits.
  REQUIRE(ws::close_payload(1000, std::string(120, 'a') + "\xf0\x9f\x98\x80").substr(2) ==
          std::string(120, 'a'));
  REQUIRE(ws::close_payload(1000, std::string(119, 'a') + "\xf0\x9f\x98\x80").substr(2) ==
          std::string(119, 'a') + "\xf0\x9f\x98\x80");
  // All multi-byte: 62 two-byte characters = 124 bytes -> 61 of them (122 bytes).
  std::string e;
  for (int i = 0; i < 62; ++i) e += "\xc3\xa9";
  const std::string cut = ws::close_payload(1000, e);
  REQUIRE(cut.size() == 2 + 122);
  REQUIRE(cut.substr(2) == e.substr(0, 122));

  // What we send, the decoder accepts.
  const Run r = run(close_frame(ws::close_payload(1000, std::string(122, 'a') + "\xc3\xa9")));
  REQUIRE(r.state == State::kClosed);
  REQUIRE(r.events == std::vector<std::string>{"close:1000:" + std::string(122, 'a')});
}

// ---- handshake ----------------------------------------------------------------------------

TEST_CASE("accept_for: the RFC 6455 section 1.3 example", "[handshake]") {
  REQUIRE(ws::accept_for(kRfcKey) == kRfcAccept);
  // Two more, computed with Python's hashlib/base64.
  REQUIRE(ws::accept_for("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  REQUIRE(ws::accept_for("AQIDBAUGBwgJCgsMDQ4PEC==") == "OfS0wDaT5NoxF2gqm7Zj2YtetzM=");
}

namespace {

struct ParsedRequest {
  std::string request_line;
  std::multimap<std::string, std::string> headers;  // lowercased names, trimmed values
  bool well_formed = true;
};

ParsedRequest parse_request(const std::string& req) {
  ParsedRequest p;
  if (req.size() < 4 || req.compare(req.size() - 4, 4, "\r\n\r\n") != 0) p.well_formed = false;
  if (req.find("\r\n\r\n") != req.size() - 4) p.well_formed = false;
  std::size_t at = 0;
  bool first = true;
  while (at < req.size()) {
    const std::size_t eol = req.find("\r\n", at);
    if (eol == std::string::npos) {
      p.well_formed = false;
      break;
    }
    const std::string line = req.substr(at, eol - at);
    at = eol + 2;
    if (line.empty()) break;
    if (first) {
      p.request_line = line;
      first = false;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos || line.find('\n') != std::string::npos) {
      p.well_formed = false;
      continue;
    }
    std::string v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    p.headers.emplace(lower(line.substr(0, colon)), v);
  }
  return p;
}

std::string one(const ParsedRequest& p, const std::string& name) {
  REQUIRE(p.headers.count(name) == 1);
  return p.headers.find(name)->second;
}

}  // namespace

TEST_CASE("make_key and upgrade_headers: the upgrade's headers and a fresh key", "[handshake]") {
  const std::string key = ws::make_key();
  // The request as the HTTP client sends it: its request line and Host, then ours.
  const std::string req = "GET /stream?streams=btcusdt@kline_1m HTTP/1.1\r\nHost: stream.binance.com\r\n" +
                          ws::upgrade_headers(key) + "\r\n";
  const ParsedRequest p = parse_request(req);
  REQUIRE(p.well_formed);
  REQUIRE(lower(one(p, "upgrade")) == "websocket");
  REQUIRE(lower(one(p, "connection")).find("upgrade") != std::string::npos);
  REQUIRE(one(p, "sec-websocket-version") == "13");
  REQUIRE(one(p, "sec-websocket-key") == key);
  REQUIRE(p.headers.count("sec-websocket-extensions") == 0);  // we offer none
  REQUIRE(p.headers.count("sec-websocket-protocol") == 0);

  REQUIRE(key.size() == 24);
  bool ok = false;
  REQUIRE(b64decode(key, ok).size() == 16);
  REQUIRE(ok);
  REQUIRE(ws::make_key() != key);

  // The reply a correct server gives to this request is accepted.
  const std::string reply = good_reply(ws::accept_for(key));
  const HandshakeReply r = ws::check_handshake_reply(reply, key);
  REQUIRE(r.status == HandshakeReply::Status::kAccepted);
}

TEST_CASE("check_handshake_reply: incomplete until the blank line", "[handshake]") {
  const std::string reply = good_reply();
  for (std::size_t n = 0; n < reply.size(); ++n) {
    INFO("prefix " << n);
    const HandshakeReply r = ws::check_handshake_reply(std::string_view(reply).substr(0, n),
                                                       kRfcKey);
    REQUIRE(r.status == HandshakeReply::Status::kIncomplete);
  }
  const HandshakeReply r = ws::check_handshake_reply(reply, kRfcKey);
  INFO(r.error);
  REQUIRE(r.status == HandshakeReply::Status::kAccepted);
  REQUIRE(r.http_status == 101);
  REQUIRE(r.head_bytes == reply.size());
}

TEST_CASE("check_handshake_reply: accepted forms", "[handshake]") {
  const std::string reply = GENERATE(
      std::string("HTTP/1.1 101 Switching Protocols\r\n"
                  "upgrade: WebSocket\r\n"
                  "CONNECTION: keep-alive, Upgrade\r\n"
                  "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
      std::string("HTTP/1.1 101 Switching Protocols\r\n"
                  "Date: Thu, 01 Jan 2024 00:00:00 GMT\r\n"
                  "Connection: upgrade\r\n"
                  "Upgrade: websocket\r\n"
                  "Server: nginx\r\n"
                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
      // Optional whitespace around values, none after the colon (RFC 7230 3.2).
      std::string("HTTP/1.1 101 \r\n"
                  "Upgrade:websocket\r\n"
                  "Connection:   Upgrade  \r\n"
                  "Sec-WebSocket-Accept:\ts3pPLMBiTxaQ9kYGzzhZRbK+xOo=\t\r\n\r\n"),
      // Repeated fields are one comma-separated list (RFC 7230 3.2.2): the token may be in
      // either of the Connection fields.
      std::string("HTTP/1.1 101 Switching Protocols\r\n"
                  "Connection: Upgrade\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: keep-alive\r\n"
                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
      std::string("HTTP/1.1 101 Switching Protocols\r\n"
                  "Connection: Upgrade,keep-alive\r\n"
                  "Upgrade: websocket\r\n"
                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
  const HandshakeReply r = ws::check_handshake_reply(reply, kRfcKey);
  INFO(reply << "\nerror: " << r.error);
  REQUIRE(r.status == HandshakeReply::Status::kAccepted);
  REQUIRE(r.http_status == 101);
  REQUIRE(r.head_bytes == reply.size());
}

TEST_CASE("check_handshake_reply: frames after the head in the same read", "[handshake]") {
  const std::string head = good_reply();
  // A blank line inside the frames too: the head ends at the first one.
  const std::string frames = text("{\"a\":\"\r\n\r\n\"}") + ping("p");
  const std::string buf = head + frames;
  const HandshakeReply r = ws::check_handshake_reply(buf, kRfcKey);
  REQUIRE(r.status == HandshakeReply::Status::kAccepted);
  REQUIRE(r.head_bytes == head.size());
  // The rest, fed to the decoder, is the server's first frames.
  const Run d = run(std::string_view(buf).substr(r.head_bytes));
  REQUIRE(d.events == std::vector<std::string>{"text:{\"a\":\"\r\n\r\n\"}", "ping:p"});
  REQUIRE(d.state == State::kOpen);
}

TEST_CASE("check_handshake_reply: refused with the HTTP status", "[handshake]") {
  struct Case {
    std::string reply;
    int status;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n\r\n", 429},
      {"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
       "bad request",
       400},
      {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403},
      {"HTTP/1.1 503 Service Unavailable\r\n\r\n", 503},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200},
  };
  for (const Case& c : cases) {
    INFO(c.reply);
    const HandshakeReply r = ws::check_handshake_reply(c.reply, kRfcKey);
    REQUIRE(r.status == HandshakeReply::Status::kRefused);
    REQUIRE(r.http_status == c.status);
    REQUIRE_FALSE(r.error.empty());
  }
}

TEST_CASE("check_handshake_reply: invalid replies", "[handshake]") {
  const std::string accept = std::string(kRfcAccept);
  const std::string wrong_accept = ws::accept_for("x3JJHMbDL1EzLkh9GBhXDw==");
  struct Case {
    const char* name;
    std::string reply;
  };
  const std::vector<Case> cases = {
      {"wrong accept", good_reply(wrong_accept)},
      {"accept of the key without the GUID", good_reply("dGhlIHNhbXBsZSBub25jZQ==")},
      {"accept in the wrong case",
       good_reply("S3PPLMBITXAQ9KYGZZHZRBK+XOO=")},
      {"missing accept",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"},
      {"missing Upgrade",
       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
           accept + "\r\n\r\n"},
      {"Upgrade not websocket",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: " +
           accept + "\r\n\r\n"},
      {"missing Connection",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " +
           accept + "\r\n\r\n"},
      {"Connection without upgrade",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
       "Sec-WebSocket-Accept: " +
           accept + "\r\n\r\n"},
      {"unrequested extension",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: " +
           accept + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"},
      {"unrequested subprotocol",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "sec-websocket-protocol: chat\r\nSec-WebSocket-Accept: " +
           accept + "\r\n\r\n"},
      {"garbage status line", "SSH-2.0-OpenSSH_9.2\r\n\r\n"},
      {"status not a number", "HTTP/1.1 abc Switching\r\nUpgrade: websocket\r\n\r\n"},
      {"no status", "HTTP/1.1\r\n\r\n"},
      {"not HTTP", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const HandshakeReply r = ws::check_handshake_reply(c.reply, kRfcKey);
    INFO("error: " << r.error);
    REQUIRE(r.status == HandshakeReply::Status::kInvalid);
    REQUIRE_FALSE(r.error.empty());
  }
}

TEST_CASE("check_handshake_reply: a head over kMaxHandshakeBytes is invalid", "[handshake]") {
  // No blank line yet, and already more than the limit: invalid, not incomplete forever.
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nX-Filler: ";
  std::string big = head + std::string(ws::kMaxHandshakeBytes, 'x');
  const HandshakeReply r = ws::check_handshake_reply(big, kRfcKey);
  REQUIRE(r.status == HandshakeReply::Status::kInvalid);
  REQUIRE_FALSE(r.error.empty());
  // Well under the limit without a blank line: still incomplete.
  REQUIRE(ws::check_handshake_reply(head + std::string(1000, 'x'), kRfcKey).status ==
          HandshakeReply::Status::kIncomplete);

  // A complete, otherwise valid head: exactly the limit is fine, one byte more is not.
  const std::string base = good_reply();  // ends in \r\n\r\n
  const std::string prefix = base.substr(0, base.size() - 2);
  const std::string filler_hdr = "X-Filler: \r\n";
  const std::size_t fill = ws::kMaxHandshakeBytes - base.size() - filler_hdr.size();
  const std::string at_limit =
      prefix + "X-Filler: " + std::string(fill, 'y') + "\r\n\r\n";
  REQUIRE(at_limit.size() == ws::kMaxHandshakeBytes);
  const HandshakeReply ok = ws::check_handshake_reply(at_limit, kRfcKey);
  INFO(ok.error);
  REQUIRE(ok.status == HandshakeReply::Status::kAccepted);
  REQUIRE(ok.head_bytes == ws::kMaxHandshakeBytes);
  const std::string over = prefix + "X-Filler: " + std::string(fill + 1, 'y') + "\r\n\r\n";
  REQUIRE(ws::check_handshake_reply(over, kRfcKey).status == HandshakeReply::Status::kInvalid);
}
