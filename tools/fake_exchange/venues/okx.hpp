// OKX v5: candles on /ws/v5/business, trades on /ws/v5/public, REST candles newest first.
#pragma once

#include "fake_exchange/venues/venue.hpp"

namespace mdfeed::fake {

[[nodiscard]] std::unique_ptr<Venue> make_okx(const Options& o);

// OKX bar names ("1m", "1H", "1Dutc") -> mdfeed's canonical interval ("1m", "1h", "1d").
[[nodiscard]] std::optional<std::string_view> okx_interval(std::string_view bar);

// One candle row as OKX sends it in REST and WS: [ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm],
// all strings. Swap vol is in contracts (contract_value_units), spot vol in base.
void append_okx_candle(std::string& out, std::string_view inst_id, const BarUnits& bar,
                       bool confirmed);

}  // namespace mdfeed::fake
