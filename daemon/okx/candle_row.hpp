// One OKX candle row, as both the WebSocket push and the REST answer send it (OKX v5 docs,
// "Get candlesticks" and "WS / Candlesticks channel"): nine strings
//   [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]
// ts is the bar's open time (ms); confirm is "0" (forming) or "1" (closed). Later columns, should
// OKX add any, are skipped. Volume units (same docs):
//   vol          spot: base currency          derivatives: number of contracts
//   volCcy       spot: quote currency         derivatives: base currency
//   volCcyQuote  quote currency (USDT for BTC-USDT and BTC-USDT-SWAP, USD for BTC-USD-SWAP)
// so mdfeed's volume (base) and quote_volume (quote) are vol/volCcy on spot and
// volCcy/volCcyQuote on derivatives. Includes simdjson: only daemon/okx sources include it.
#pragma once

#include <cstdint>
#include <limits>

#include <mdfeed/layout.hpp>
#include <mdfeed/names.hpp>

#include "venue/json_util.hpp"

namespace mdfeed::okx {

// The simdjson names every OKX parser uses.
namespace json = venue::json;
namespace od = venue::json::od;
using venue::json::error_code;

struct CandleRow {
  std::int64_t ts = 0;
  double open = 0, high = 0, low = 0, close = 0;
  double vol = 0, vol_ccy = 0, vol_ccy_quote = 0;
  bool confirmed = false;
};

// Why a row failed: the column (or -1 for the row itself) and the simdjson error, or a
// column count / confirm value problem (error == simdjson::SUCCESS then).
struct RowError {
  int column = -1;
  error_code error = simdjson::SUCCESS;
  const char* what = "";
};

inline constexpr int kRowColumns = 9;

// ts is a decimal integer in a string ("1597026383085"); a bare number is not OKX's format.
[[gnu::always_inline]] inline error_code get_int_string(od::value& v, std::int64_t& out) noexcept {
  return json::get_integer_in_string(v, out);
}

// Reads one row. Returns false and fills err on failure; the document must not be used again.
inline bool read_candle_row(od::value& row, CandleRow& r, RowError& err) noexcept {
  bool bad_confirm = false;
  std::size_t j = 0;
  const error_code e = json::for_each_column(row, j, [&](std::size_t col, od::value& v) -> error_code {
    switch (col) {
      case 0: return get_int_string(v, r.ts);
      case 1: return json::get_decimal(v, r.open);
      case 2: return json::get_decimal(v, r.high);
      case 3: return json::get_decimal(v, r.low);
      case 4: return json::get_decimal(v, r.close);
      case 5: return json::get_decimal(v, r.vol);
      case 6: return json::get_decimal(v, r.vol_ccy);
      case 7: return json::get_decimal(v, r.vol_ccy_quote);
      case 8: {
        od::raw_json_string s;
        if (error_code ec = v.get_raw_json_string().get(s)) return ec;
        if (s == "1" || s == "0") {
          r.confirmed = s == "1";
          return simdjson::SUCCESS;
        }
        bad_confirm = true;
        return simdjson::INCORRECT_TYPE;
      }
      default: return simdjson::SUCCESS;  // columns OKX may add later
    }
  });
  if (e && j == json::kNotAnArray) {
    err = {-1, e, "expected an array"};
    return false;
  }
  if (bad_confirm) {
    err = {static_cast<int>(j), simdjson::SUCCESS, "confirm is neither \"0\" nor \"1\""};
    return false;
  }
  if (e) {
    err = {static_cast<int>(j), e, "bad value"};
    return false;
  }
  if (j < static_cast<std::size_t>(kRowColumns)) {
    err = {static_cast<int>(j), simdjson::SUCCESS, "too few columns"};
    return false;
  }
  return true;
}

// The bar of a row: open/close times on the canonical interval's grid, volumes in base and quote
// units (see the top of this file), no trade count or taker volumes (NaN, kBarNoTrades).
inline Bar to_bar(const CandleRow& r, std::string_view canonical_interval, bool derivative,
                  std::uint32_t flags) noexcept {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Bar b{};
  b.open_time_ms = r.ts;
  b.close_time_ms = next_open_ms(canonical_interval, r.ts) - 1;
  b.open = r.open;
  b.high = r.high;
  b.low = r.low;
  b.close = r.close;
  b.volume = derivative ? r.vol_ccy : r.vol;
  b.quote_volume = derivative ? r.vol_ccy_quote : r.vol_ccy;
  b.trades = 0;
  b.taker_buy_volume = kNaN;
  b.taker_buy_quote_volume = kNaN;
  b.flags = flags | kBarNoTrades;
  return b;
}

}  // namespace mdfeed::okx
