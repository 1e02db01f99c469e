// The fake exchange's ground truth: every bar of every (symbol, interval) is a pure function of
// its open time, so the server and any test can compute the same history independently.
//
// Prices and volumes are integers in units of 1e-8 (Binance prints 8 decimals), printed once by
// format_bar(); the doubles in a mdfeed::Bar are the correctly rounded parse of those exact
// strings. A client that parses the wire correctly therefore equals truth_bar() bit for bit.
#pragma once

#include <cstdint>
#include <mdfeed/layout.hpp>
#include <string>
#include <string_view>

namespace mdfeed::fake {

inline constexpr int kDecimals = 8;
inline constexpr std::int64_t kUnitsPerWhole = 100'000'000;  // 10^kDecimals

// One kline in fixed-point units of 1e-8, before printing.
struct BarUnits {
  std::int64_t open_time_ms = 0;
  std::int64_t close_time_ms = 0;  // next open - 1, as Binance sends T
  std::int64_t open = 0;
  std::int64_t high = 0;
  std::int64_t low = 0;
  std::int64_t close = 0;
  std::int64_t volume = 0;
  std::int64_t quote_volume = 0;
  std::int64_t taker_buy_volume = 0;
  std::int64_t taker_buy_quote_volume = 0;
  std::uint64_t trades = 0;
  std::int64_t first_trade_id = 0;
  std::int64_t last_trade_id = 0;
};

// The decimal strings exactly as they go on the wire ("43012.57000000").
struct KlineStrings {
  std::string open, high, low, close;
  std::string volume, quote_volume, taker_buy_volume, taker_buy_quote_volume;
};

// --- Bar calendar -------------------------------------------------------------------------------

[[nodiscard]] bool valid_interval(std::string_view interval) noexcept;

// Open time of the bar containing t_ms. Bars are aligned to the Unix epoch, except 1w (Monday
// 00:00 UTC, as Binance) and 1M (first day of the calendar month, UTC).
// Precondition: valid_interval(interval).
[[nodiscard]] std::int64_t bar_open_at(std::string_view interval, std::int64_t t_ms);

// T of the bar opening at open_ms: next_open_ms(interval, open_ms) - 1.
[[nodiscard]] std::int64_t bar_close_time(std::string_view interval, std::int64_t open_ms);

// --- Instruments --------------------------------------------------------------------------------

// The price level a symbol trades around, in 1e-8 units, from its assets only: BTCUSDT,
// BTC-USDT and BTC-USDT-SWAP are all near 90,000, ETH near 3,000, SOL near 150, ETHBTC near
// 3000/90000; an unknown asset gets a hash-derived level in 0.001..9999. The truth wanders up to
// ~20% around it.
[[nodiscard]] std::int64_t price_level_units(std::string_view symbol) noexcept;

// The contract value of an OKX swap (symbol ending in -SWAP) in base units of 1e-8: BTC 0.01,
// ETH 0.1, anything else 1 coin. 0 for everything else. A swap's volume is a whole number of
// contracts, so OKX's `vol` (contracts) = volume / contract value exactly.
[[nodiscard]] std::int64_t contract_value_units(std::string_view symbol) noexcept;

// --- Truth --------------------------------------------------------------------------------------

// The final bar opening at open_ms (open_ms is aligned down with bar_open_at if it is not a bar
// open). Properties: low <= min(open, close) <= max(open, close) <= high, close equals the next
// bar's open, trades > 0, volume > 0, taker-buy volumes <= volumes,
// last_trade_id = first_trade_id + trades - 1 < next bar's first_trade_id.
// An unknown interval yields a zeroed bar.
[[nodiscard]] BarUnits truth_units(std::string_view symbol, std::string_view interval,
                                   std::int64_t open_ms);

// The bar opening at open_ms as it stands at sim_now_ms. From close time (T) on it equals
// truth_units(); before that, high only rises, low only falls, trades and every volume never
// decrease as sim_now_ms advances. Before open_ms it is the first (smallest) snapshot.
[[nodiscard]] BarUnits forming_units(std::string_view symbol, std::string_view interval,
                                     std::int64_t open_ms, std::int64_t sim_now_ms);

// --- Printing and parsing -----------------------------------------------------------------------

// 1e-8 units as a fixed 8-decimal string: 4301257000000 -> "43012.57000000".
[[nodiscard]] std::string format_units(std::int64_t units);
void append_units(std::string& out, std::int64_t units);

[[nodiscard]] KlineStrings format_bar(const BarUnits& bar);

// The Bar a correct client builds: every double is std::from_chars of the wire string.
[[nodiscard]] Bar to_bar(const BarUnits& bar, std::uint32_t flags);

// truth_units() as a closed Bar (flags = kBarClosed).
[[nodiscard]] Bar truth_bar(std::string_view symbol, std::string_view interval,
                            std::int64_t open_ms);

// forming_units() as a Bar with flags = 0 (closing it is the caller's decision).
[[nodiscard]] Bar forming_bar(std::string_view symbol, std::string_view interval,
                              std::int64_t open_ms, std::int64_t sim_now_ms);

// --- Wire formats -------------------------------------------------------------------------------

// "btcusdt@kline_1m": lowercase symbol, interval as is (1M stays 1M).
[[nodiscard]] std::string kline_stream_name(std::string_view symbol, std::string_view interval);

// The kline event object ("data" of a combined stream, the whole message of a raw stream):
// {"e":"kline","E":..,"s":"BTCUSDT","k":{"t":..,"T":..,"s":"BTCUSDT","i":"1m","f":..,"L":..,
//  "o":"..","c":"..","h":"..","l":"..","v":"..","n":..,"x":false,"q":"..","V":"..","Q":"..",
//  "B":"0"}}
void append_kline_event(std::string& out, std::string_view symbol, std::string_view interval,
                        std::int64_t event_time_ms, const BarUnits& bar, bool closed);
[[nodiscard]] std::string kline_event(std::string_view symbol, std::string_view interval,
                                      std::int64_t event_time_ms, const BarUnits& bar, bool closed);

// The combined-stream message: {"stream":"btcusdt@kline_1m","data":<kline_event>}.
[[nodiscard]] std::string kline_message(std::string_view symbol, std::string_view interval,
                                        std::int64_t event_time_ms, const BarUnits& bar,
                                        bool closed);

// One REST /api/v3/klines row:
// [openTime,"o","h","l","c","v",closeTime,"q",trades,"V","Q","0"]
void append_rest_row(std::string& out, const BarUnits& bar);
[[nodiscard]] std::string rest_row(const BarUnits& bar);

}  // namespace mdfeed::fake
