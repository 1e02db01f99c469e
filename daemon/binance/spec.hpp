// Binance spot ("binance") and USD-M futures ("binance-usdm"): one folder, two specs, because
// both speak the same combined-stream protocol and kline payload and differ only in routes,
// limits and REST weights (docs/design.md, "Venues").
#pragma once

#include "venue/venue.hpp"

namespace mdfeed::binance {

extern const venue::Spec kSpotSpec;
extern const venue::Spec kUsdmSpec;

// USD-M klines weight by limit: [1,100) 1, [100,500) 2, [500,1000] 5, above 10 (Binance
// USD-M "Kline/Candlestick Data", request weight table).
[[nodiscard]] int usdm_klines_weight(int limit) noexcept;

}  // namespace mdfeed::binance
