// Bybit v5 public spot and linear: /v5/public/{spot,linear}, REST /v5/market/kline.
#pragma once

#include "fake_exchange/venues/venue.hpp"

namespace mdfeed::fake {

// Both markets in one venue: they share the REST host, its IP rate limit and its ban; the
// market is chosen only by the WS path or the REST `category`.
[[nodiscard]] std::unique_ptr<Venue> make_bybit(const Options& o);

// Bybit interval names ("1", "60", "D") -> mdfeed's canonical interval ("1m", "1h", "1d").
[[nodiscard]] std::optional<std::string_view> bybit_interval(std::string_view interval);

}  // namespace mdfeed::fake
