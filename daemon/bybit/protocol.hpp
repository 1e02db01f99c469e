// Bybit v5 protocol pieces shared by both markets' specs (spec.cpp) and by the tests: the
// interval table, topic and frame builders, the WebSocket protocol and the REST functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "venue/venue.hpp"

namespace mdfeed::bybit {

// Canonical interval -> Bybit's ("1m" -> "1", "1h" -> "60", "1d" -> "D"), and back.
// Source: Bybit v5 "Get Kline" (https://bybit-exchange.github.io/docs/v5/market/kline), request
// parameter interval: 1,3,5,15,30,60,120,240,360,720,D,W,M; the WebSocket kline topic takes the
// same values (https://bybit-exchange.github.io/docs/v5/websocket/public/kline). Bybit has no
// 1s, 8h or 3d bars.
extern const venue::IntervalName kIntervals[13];
[[nodiscard]] std::optional<std::string_view> venue_interval(std::string_view canonical) noexcept;
[[nodiscard]] std::optional<std::string_view> canonical_interval(std::string_view bybit) noexcept;

// "kline.1.BTCUSDT" for ("BTCUSDT", "1m"); the symbol is the venue's id, unchanged.
[[nodiscard]] std::string kline_topic(std::string_view symbol, std::string_view interval);

// {"req_id":"7","op":"subscribe","args":["kline.1.BTCUSDT",...]}, at most max_args per frame.
[[nodiscard]] std::vector<std::string> control_frames(const std::vector<std::string>& topics,
                                                      bool subscribe, std::size_t max_args,
                                                      std::int64_t& next_id);

// {"req_id":"3","op":"ping"}
[[nodiscard]] std::string ping_frame(std::int64_t req_id);

// One WebSocket protocol object for a market: path "/v5/public/spot" or "/v5/public/linear".
[[nodiscard]] std::unique_ptr<venue::WsProtocol> make_ws(std::string_view path,
                                                         std::size_t max_args,
                                                         std::size_t max_message_bytes);

// REST, for category "spot" or "linear".
[[nodiscard]] venue::KlinesRequest klines_request(std::string_view category,
                                                  std::string_view symbol,
                                                  std::string_view interval,
                                                  std::int64_t start_open_ms,
                                                  std::int64_t end_open_ms, int limit);
[[nodiscard]] venue::RestOutcome classify(const venue::HttpAnswer& answer);
// The symbol is not needed: Bybit's volume is base and turnover quote on both markets.
[[nodiscard]] venue::RestOutcome parse_klines(std::string_view body, std::string_view symbol,
                                              std::string_view interval, std::vector<Bar>& out);
[[nodiscard]] std::optional<std::int64_t> parse_server_time(std::string_view body);

// Bybit's codes (https://bybit-exchange.github.io/docs/v5/error): 10001 request parameter
// error (with retMsg "Not supported symbols" for an unknown symbol), 10006 "Too many visits!".
inline constexpr std::int64_t kParamErrorCode = 10001;
inline constexpr std::int64_t kTooManyVisitsCode = 10006;

// 10006 without a usable X-Bapi-Limit-Reset-Timestamp: wait this long (the API limit is
// per-second rolling, so a few seconds clears it).
inline constexpr std::int64_t kDefaultRetryMs = 5'000;
// A reset timestamp further away than this is not believed: the wait is capped there.
inline constexpr std::int64_t kMaxRetryMs = 600'000;
// HTTP 403 "access too frequent": "terminate all HTTP sessions and wait for at least 10 minutes"
// (https://bybit-exchange.github.io/docs/v5/rate-limit, "HTTP IP limit").
inline constexpr std::int64_t kBanMs = 600'000;

}  // namespace mdfeed::bybit
