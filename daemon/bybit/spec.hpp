// Bybit v5 spot ("bybit-spot") and USDT/USDC perpetuals and futures ("bybit-linear"): one
// folder, two specs. Both markets speak the same v5 public WebSocket protocol and the same
// /v5/market/kline REST endpoint; they differ only in the URL path, the `category` query value
// and a few limits (docs/design.md, "Venues").
#pragma once

#include "venue/venue.hpp"

namespace mdfeed::bybit {

extern const venue::Spec kSpotSpec;
extern const venue::Spec kLinearSpec;

}  // namespace mdfeed::bybit
