// OKX internals shared by spec.cpp, ws.cpp and rest.cpp: the interval table, the WebSocket
// protocol factory and the REST functions the Spec points at. Not used outside daemon/okx/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "venue/venue.hpp"

namespace mdfeed::okx {

// Canonical interval -> OKX bar name (REST `bar=`, WebSocket channel "candle" + bar).
// OKX v5 docs, "Get candlesticks" (bar) and "WS / Candlesticks channel" (channel): 1m 3m 5m 15m
// 30m 1H 2H 4H; Hong Kong time (UTC+8) opening: 6H 12H 1D 2D 3D 1W 1M 3M; UTC opening: 6Hutc
// 12Hutc 1Dutc 2Dutc 3Dutc 1Wutc 1Mutc 3Mutc. Daily and longer bars must be UTC-aligned, so
// 6h/12h/1d/1w/1M use the ...utc bars. Left out:
//  - 3d: OKX has 3Dutc, but its 3-day phase is not documented, and mdfeed's 3d grid is
//    epoch-aligned (bar_grid.hpp); a phase mismatch would misplace every bar.
//  - 1s: only history-candles (latest 3 months) and newer WS docs have it, not `candles`.
//  - 8h: OKX has no 8H bar.
inline constexpr venue::IntervalName kIntervals[] = {
    {"1m", "1m"},      {"3m", "3m"},       {"5m", "5m"},      {"15m", "15m"},
    {"30m", "30m"},    {"1h", "1H"},       {"2h", "2H"},      {"4h", "4H"},
    {"6h", "6Hutc"},   {"12h", "12Hutc"},  {"1d", "1Dutc"},   {"1w", "1Wutc"},
    {"1M", "1Mutc"},
};
inline constexpr std::size_t kIntervalCount = std::size(kIntervals);

// The canonical name of an OKX bar ("1H" -> "1h"), or "" when mdfeed does not serve it.
[[nodiscard]] std::string_view canonical_interval(std::string_view okx_bar) noexcept;
// The OKX bar of a canonical interval ("1h" -> "1H"), or "" when OKX has none.
[[nodiscard]] std::string_view okx_interval(std::string_view canonical) noexcept;

// A derivative (swap, dated future, option) has a second '-' in its id: BTC-USDT-SWAP,
// BTC-USD-220527. Its candle `vol` counts contracts, so volumes come from volCcy (base) and
// volCcyQuote (quote); spot's are vol (base) and volCcy (quote).
[[nodiscard]] bool is_derivative(std::string_view inst_id) noexcept;

// One request stays within OKX's 64 KB limit on a subscribe request.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
// Args per subscribe request. OKX documents no count, only the 64 KB; 100 args (~5 KB) keeps
// each request's burst of acks modest while a full connection (240 streams) needs only three of
// the 480 (un)subscribe requests an hour a connection may make.
inline constexpr std::size_t kMaxTopicsPerRequest = 100;
// Send `ping` after this much receive silence (OKX drops a connection silent for 30 s).
inline constexpr std::int64_t kPingAfterMs = 20'000;

std::unique_ptr<venue::WsProtocol> make_ws(std::size_t max_message_bytes);

venue::KlinesRequest klines_request(std::string_view symbol, std::string_view interval,
                                    std::int64_t start_open_ms, std::int64_t end_open_ms,
                                    int limit, std::int64_t exchange_now_ms);
venue::RestOutcome classify(const venue::HttpAnswer& answer);
venue::RestOutcome parse_klines(std::string_view body, std::string_view symbol,
                                std::string_view interval, std::vector<Bar>& out);
std::optional<std::int64_t> parse_server_time(std::string_view body);

}  // namespace mdfeed::okx
