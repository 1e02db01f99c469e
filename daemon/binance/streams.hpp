// Binance WebSocket stream names, the combined-stream path and SUBSCRIBE messages.
// Inputs are assumed validated (names.hpp: symbols [A-Z0-9_-], intervals from the table), so
// nothing needs escaping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed::binance {

// "BTCUSDT", "1m" -> "btcusdt@kline_1m". Only the symbol is lower-cased: "1M" (month) and "1m"
// (minute) differ by case.
[[nodiscard]] std::string stream_name(std::string_view symbol, std::string_view interval);

// "BTCUSDT" -> "btcusdt@aggTrade" (spot and futures alike).
[[nodiscard]] std::string trade_stream_name(std::string_view symbol);

// {"a","b"} -> "/stream?streams=a/b"
[[nodiscard]] std::string combined_path(const std::vector<std::string>& streams);

// {"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":1}
[[nodiscard]] std::string subscribe_message(std::string_view method, std::int64_t id,
                                            const std::vector<std::string>& streams);

}  // namespace mdfeed::binance
