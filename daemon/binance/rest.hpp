// Binance spot REST: the klines and server-time request targets and their response parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mdfeed/layout.hpp>

#include "binance/messages.hpp"

namespace mdfeed::binance {


// Binance's code for an unknown symbol ({"code":-1121,"msg":"Invalid symbol."}).
inline constexpr std::int64_t kInvalidSymbolCode = -1121;

// path + "?symbol=BTCUSDT&interval=1m&startTime=..[&endTime=..]&limit=1000" (path:
// "/api/v3/klines" spot, "/fapi/v1/klines" USD-M). The symbol is upper-cased (REST wants it so);
// the caller keeps limit within the venue's page size.
[[nodiscard]] std::string klines_target(std::string_view path, std::string_view symbol, std::string_view interval,
                                        std::int64_t start_ms, std::optional<std::int64_t> end_ms,
                                        int limit);

// Response parsing with one reusable, bounded simdjson parser. The body is copied into an
// owned padded buffer, so any string_view will do. Not thread-safe; one per REST worker.
class RestParser {
 public:
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{4} << 20;  // 1000 rows ~ 200 KB

  explicit RestParser(std::size_t max_bytes = kDefaultMaxBytes);
  ~RestParser();
  RestParser(RestParser&&) noexcept;
  RestParser& operator=(RestParser&&) noexcept;

  // Rows [openTime,"o","h","l","c","v",closeTime,"q",trades,"V","Q",...] become Bars flagged
  // kBarBackfilled only: whether the last row is closed is the caller's call (server time).
  // Open times must strictly increase. out is cleared first, and left empty on any failure.
  [[nodiscard]] RestResult parse_klines(std::string_view body, std::vector<Bar>& out);
  // {"serverTime":1499827319559}
  [[nodiscard]] std::optional<std::int64_t> parse_server_time(std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same, on a parser private to the calling thread.
[[nodiscard]] RestResult parse_klines_response(std::string_view body, std::vector<Bar>& out);
[[nodiscard]] std::optional<std::int64_t> parse_server_time(std::string_view body);

}  // namespace mdfeed::binance
