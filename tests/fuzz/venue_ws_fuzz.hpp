// The shared body of every venue's WebSocket fuzz target: one message through a venue's
// WsProtocol::parse, called the way core calls it (one protocol object reused for every
// message). The input is parsed twice, with zero and with garbage padding, and the results must
// agree; the buffer is exactly len + kParsePadding so ASan flags any read past it; a buffer one
// byte short of the padding is refused. `check` adds the venue's own invariants on each Event.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "venue/venue.hpp"

namespace mdfeed::fuzz {

struct WsOutcome {
  venue::EventKind kind = venue::EventKind::kError;
  std::string error, topic, text, control_msg;
  std::int64_t event_time_ms = 0, control_id = 0, control_code = 0;
  bool control_ok = false;
  Bar bar{};

  [[nodiscard]] bool operator==(const WsOutcome& b) const {
    return kind == b.kind && error == b.error && topic == b.topic && text == b.text &&
           control_msg == b.control_msg && event_time_ms == b.event_time_ms &&
           control_id == b.control_id && control_code == b.control_code &&
           control_ok == b.control_ok && std::memcmp(&bar, &b.bar, sizeof(Bar)) == 0;
  }
};

template <class Check>
WsOutcome parse_once(venue::WsProtocol& ws, const char* buf, std::size_t len, Check&& check) {
  const venue::Event e = ws.parse(buf, len, len + venue::kParsePadding);
  WsOutcome o;
  o.kind = e.kind;
  o.error = ws.last_error();
  MDFEED_FUZZ_CHECK((o.kind == venue::EventKind::kError) == !o.error.empty());
  o.topic = e.topic;
  o.text = e.text;
  o.control_msg = e.control.error_msg;
  o.event_time_ms = e.event_time_ms;
  o.control_id = e.control.id;
  o.control_code = e.control.error_code;
  o.control_ok = e.control.ok;
  o.bar = e.bar;
  if (e.kind == venue::EventKind::kKline) MDFEED_FUZZ_CHECK(!o.topic.empty());
  check(e);
  return o;
}

template <class Check>
int fuzz_ws_message(venue::WsProtocol& ws, const std::uint8_t* data, std::size_t size, Check&& check) {
  const std::size_t pad = venue::kParsePadding;
  const std::unique_ptr<char[]> buf(new char[size + pad]);
  if (size > 0) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, pad);
  const WsOutcome clean = parse_once(ws, buf.get(), size, check);
  for (std::size_t i = 0; i < pad; ++i) buf[size + i] = size > 0 ? static_cast<char>(data[i % size]) : '"';
  const WsOutcome dirty = parse_once(ws, buf.get(), size, check);
  MDFEED_FUZZ_CHECK(clean == dirty);
  if (size > 0) MDFEED_FUZZ_CHECK(ws.parse(buf.get(), size, size + pad - 1).kind == venue::EventKind::kError);
  return 0;
}

}  // namespace mdfeed::fuzz
