// Fuzz target: one OKX WebSocket message through the okx WsProtocol::parse, via the shared venue
// harness (tests/fuzz/venue_ws_fuzz.hpp: reused protocol object, padding agreement, exact
// buffer). OKX's own invariants: candles carry no event time, no trade count, no taker volumes.
#include <cmath>
#include <memory>

#include "okx/spec.hpp"
#include "venue_ws_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<mdfeed::venue::WsProtocol> ws = mdfeed::okx::kSpec.make_ws(1 << 20);
  return mdfeed::fuzz::fuzz_ws_message(*ws, data, size, [](const mdfeed::venue::Event& e) {
    if (e.kind != mdfeed::venue::EventKind::kKline) return;
    MDFEED_FUZZ_CHECK(e.event_time_ms == mdfeed::venue::kNoTime);
    MDFEED_FUZZ_CHECK((e.bar.flags & ~(mdfeed::kBarClosed | mdfeed::kBarNoTrades)) == 0);
    MDFEED_FUZZ_CHECK((e.bar.flags & mdfeed::kBarNoTrades) != 0);
    MDFEED_FUZZ_CHECK(std::isnan(e.bar.taker_buy_volume) && std::isnan(e.bar.taker_buy_quote_volume));
  });
}
