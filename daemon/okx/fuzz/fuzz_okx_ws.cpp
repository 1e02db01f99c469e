// Fuzz target: one OKX WebSocket message through the okx WsProtocol::parse, called the way core
// calls it: one protocol object reused for every message, the receive buffer's padding holding
// leftovers. The input is parsed twice (zero padding, garbage padding) and the results must
// agree; the buffer is exactly len + kParsePadding so ASan flags any read past it.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "okx/spec.hpp"

namespace {

using mdfeed::venue::Event;
using mdfeed::venue::EventKind;
using mdfeed::venue::kParsePadding;

struct Outcome {
  EventKind kind = EventKind::kError;
  std::string error, topic, text, control_msg;
  std::int64_t event_time_ms = 0, control_id = 0, control_code = 0;
  bool control_ok = false;
  mdfeed::Bar bar{};
};

Outcome parse(mdfeed::venue::WsProtocol& p, const char* buf, std::size_t len) {
  const Event e = p.parse(buf, len, len + kParsePadding);
  Outcome o;
  o.kind = e.kind;
  o.error = p.last_error();
  MDFEED_FUZZ_CHECK((o.kind == EventKind::kError) == !o.error.empty());
  o.topic = e.topic;
  o.text = e.text;
  o.control_msg = e.control.error_msg;
  o.event_time_ms = e.event_time_ms;
  o.control_id = e.control.id;
  o.control_code = e.control.error_code;
  o.control_ok = e.control.ok;
  o.bar = e.bar;
  if (e.kind == EventKind::kKline) {
    MDFEED_FUZZ_CHECK(!o.topic.empty());
    MDFEED_FUZZ_CHECK(e.event_time_ms == mdfeed::venue::kNoTime);
    MDFEED_FUZZ_CHECK((e.bar.flags & ~(mdfeed::kBarClosed | mdfeed::kBarNoTrades)) == 0);
    MDFEED_FUZZ_CHECK((e.bar.flags & mdfeed::kBarNoTrades) != 0);
    MDFEED_FUZZ_CHECK(std::isnan(e.bar.taker_buy_volume) && std::isnan(e.bar.taker_buy_quote_volume));
  }
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.kind == b.kind && a.error == b.error && a.topic == b.topic && a.text == b.text &&
         a.control_msg == b.control_msg && a.event_time_ms == b.event_time_ms &&
         a.control_id == b.control_id && a.control_code == b.control_code &&
         a.control_ok == b.control_ok && std::memcmp(&a.bar, &b.bar, sizeof(mdfeed::Bar)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<mdfeed::venue::WsProtocol> ws = mdfeed::okx::kSpec.make_ws(1 << 20);
  const std::unique_ptr<char[]> buf(new char[size + kParsePadding]);
  if (size > 0) std::memcpy(buf.get(), data, size);

  std::memset(buf.get() + size, 0, kParsePadding);
  const Outcome clean = parse(*ws, buf.get(), size);

  for (std::size_t i = 0; i < kParsePadding; ++i)
    buf[size + i] = size > 0 ? static_cast<char>(data[i % size]) : '"';
  const Outcome dirty = parse(*ws, buf.get(), size);
  MDFEED_FUZZ_CHECK(same(clean, dirty));

  // A buffer one byte short of the padding is refused, never read past.
  if (size > 0) {
    const Event e = ws->parse(buf.get(), size, size + kParsePadding - 1);
    MDFEED_FUZZ_CHECK(e.kind == EventKind::kError);
  }
  return 0;
}
