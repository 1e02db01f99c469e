// Fuzz target: one message through the Bybit WebSocket protocol's parse(), via the shared venue
// harness (tests/fuzz/venue_ws_fuzz.hpp: reused protocol object, padding agreement, exact
// buffer). Bybit's own invariants: kline topics, no trade count, sane bar times.
#include <memory>

#include "bybit/spec.hpp"
#include "venue_ws_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto ws = mdfeed::bybit::kSpotSpec.make_ws(std::size_t{1} << 20);
  return mdfeed::fuzz::fuzz_ws_message(*ws, data, size, [](const mdfeed::venue::Event& e) {
    if (e.kind != mdfeed::venue::EventKind::kKline) return;
    MDFEED_FUZZ_CHECK(e.topic.rfind("kline.", 0) == 0);
    MDFEED_FUZZ_CHECK((e.bar.flags & mdfeed::kBarNoTrades) != 0);
    MDFEED_FUZZ_CHECK(e.bar.close_time_ms >= e.bar.open_time_ms);
  });
}
