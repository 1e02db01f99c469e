// Binance spot and Binance USD-M futures: one protocol with two configurations.
#pragma once

#include "fake_exchange/venues/venue.hpp"

namespace mdfeed::fake {

[[nodiscard]] std::unique_ptr<Venue> make_binance_spot(const Options& o);
[[nodiscard]] std::unique_ptr<Venue> make_binance_usdm(const Options& o);

// USD-M's kline request weight by limit: [1,100) 1, [100,500) 2, [500,1000] 5, above 10.
[[nodiscard]] std::int64_t usdm_klines_weight(std::int64_t limit) noexcept;

}  // namespace mdfeed::fake
