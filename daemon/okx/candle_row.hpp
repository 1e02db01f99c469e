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
[[gnu::always_inline]] inline error_code get_int_string(od::value& v,
                                                                     std::int64_t& out) noexcept {
  if (*v.raw_json_token().data() != '"') return simdjson::INCORRECT_TYPE;  // peeks only
  return v.get_int64_in_string().get(out);
}

// Reads one row. Returns false and fills err on failure; the document must not be used again.
inline bool read_candle_row(od::value& row, CandleRow& r, RowError& err) noexcept {
  od::array cols;
  if (auto e = row.get_array().get(cols)) {
    err = {-1, e, "expected an array"};
    return false;
  }
  int j = 0;
  for (auto col : cols) {
    od::value v;
    error_code e = std::move(col).get(v);
    if (!e) {
      switch (j) {
        case 0: e = get_int_string(v, r.ts); break;
        case 1: e = json::get_decimal(v, r.open); break;
        case 2: e = json::get_decimal(v, r.high); break;
        case 3: e = json::get_decimal(v, r.low); break;
        case 4: e = json::get_decimal(v, r.close); break;
        case 5: e = json::get_decimal(v, r.vol); break;
        case 6: e = json::get_decimal(v, r.vol_ccy); break;
        case 7: e = json::get_decimal(v, r.vol_ccy_quote); break;
        case 8: {
          od::raw_json_string s;
          e = v.get_raw_json_string().get(s);
          if (!e) {
            if (s == "1") r.confirmed = true;
            else if (s == "0") r.confirmed = false;
            else {
              err = {j, simdjson::SUCCESS, "confirm is neither \"0\" nor \"1\""};
              return false;
            }
          }
          break;
        }
        default: break;  // columns OKX may add later
      }
    }
    if (e) {
      err = {j, e, "bad value"};
      return false;
    }
    ++j;
  }
  if (j < kRowColumns) {
    err = {j, simdjson::SUCCESS, "too few columns"};
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
