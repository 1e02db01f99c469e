// Fuzz target: one message through the Bybit WebSocket protocol's parse(), one protocol object
// reused as on a live connection. Parsed twice, with zero and with garbage padding: the results
// must agree. The buffer is exactly len + kParsePadding so ASan flags any read past it.
#include <cstring>
#include <memory>
#include <string>

#include "bybit/spec.hpp"
#include "fuzz_check.hpp"

namespace {

using mdfeed::venue::Event;
using mdfeed::venue::EventKind;
using mdfeed::venue::kParsePadding;

struct Outcome {
  EventKind kind = EventKind::kError;
  std::string error, topic, control_msg;
  std::int64_t event_time_ms = 0, control_id = 0;
  bool control_ok = false;
  mdfeed::Bar bar{};
};

Outcome run(mdfeed::venue::WsProtocol& ws, const char* buf, std::size_t len) {
  const Event e = ws.parse(buf, len, len + kParsePadding);
  Outcome o;
  o.kind = e.kind;
  o.error = ws.last_error();
  MDFEED_FUZZ_CHECK((o.kind == EventKind::kError) == !o.error.empty());
  if (e.kind == EventKind::kKline) {
    o.topic = e.topic;
    o.event_time_ms = e.event_time_ms;
    o.bar = e.bar;
    MDFEED_FUZZ_CHECK(o.topic.rfind("kline.", 0) == 0);
    MDFEED_FUZZ_CHECK((e.bar.flags & mdfeed::kBarNoTrades) != 0);
    MDFEED_FUZZ_CHECK(e.bar.close_time_ms >= e.bar.open_time_ms);
  } else if (e.kind == EventKind::kControlReply) {
    o.control_id = e.control.id;
    o.control_ok = e.control.ok;
    o.control_msg = e.control.error_msg;
  }
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.kind == b.kind && a.error == b.error && a.topic == b.topic &&
         a.control_msg == b.control_msg && a.event_time_ms == b.event_time_ms &&
         a.control_id == b.control_id && a.control_ok == b.control_ok &&
         std::memcmp(&a.bar, &b.bar, sizeof(mdfeed::Bar)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto ws = mdfeed::bybit::kSpotSpec.make_ws(std::size_t{1} << 20);
  const std::unique_ptr<char[]> buf(new char[size + kParsePadding]);
  if (size > 0) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, kParsePadding);
  const Outcome clean = run(*ws, buf.get(), size);
  for (std::size_t i = 0; i < kParsePadding; ++i)
    buf[size + i] = size > 0 ? static_cast<char>(data[i % size]) : '"';
  const Outcome dirty = run(*ws, buf.get(), size);
  MDFEED_FUZZ_CHECK(same(clean, dirty));
  if (size > 0)
    MDFEED_FUZZ_CHECK(ws->parse(buf.get(), size, size + kParsePadding - 1).kind == EventKind::kError);
  return 0;
}
