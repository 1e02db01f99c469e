// Venue-neutral values every exchange adapter produces or describes: what a WebSocket message
// turned out to be, a parsed kline, a REST outcome and the venue's limits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <mdfeed/layout.hpp>
#include <mdfeed/names.hpp>

namespace mdfeed::adapter {

// Bytes a message buffer must extend past the data: simdjson reads whole SIMD blocks.
// Equal to SIMDJSON_PADDING (checked where simdjson is included), repeated here so that code
// filling buffers need not include simdjson.
inline constexpr std::size_t kParsePadding = 64;

enum class MsgKind {
  kKline,           // a kline update; KlineMsg filled
  kNotKline,        // valid traffic we do not use (depth, trades, ...): skip silently
  kControlReply,    // answer to SUBSCRIBE & co.; KlineMsg::control filled
  kServerShutdown,  // the venue is about to close this connection: reconnect now
  kError,           // malformed or unexpected; see the parser's last_error()
};

// The answer to a control request: {"result":null,"id":7} or {"error":{...},"id":7}.
struct ControlReply {
  std::int64_t id = -1;  // -1 when the reply carried no integer id
  bool ok = false;       // true for "result", false for "error"
  std::int64_t error_code = 0;
  std::string_view error_msg;  // valid until the next parse
};

// One parsed kline message. The views point into the parser or the input buffer and stay valid
// until the next parse (or until the input buffer is reused).
struct KlineMsg {
  std::string_view stream;    // combined-stream name; empty for a raw (non-combined) message
  std::string_view symbol;    // as the venue sends it (Binance: upper case, k.s)
  std::string_view interval;  // "1m"
  std::int64_t event_time_ms = 0;  // E: exchange clock; also set for kServerShutdown when sent
  Bar bar{};                       // flags: kBarClosed iff this is the bar's final update
  ControlReply control;            // only for kControlReply
};

enum class RestStatus {
  kOk,
  kInvalidSymbol,  // the venue says the symbol does not exist: do not retry
  kApiError,       // any other venue error body; code and message set
  kError,          // malformed body; message says where
};

struct RestResult {
  RestStatus status = RestStatus::kOk;
  std::int64_t code = 0;  // venue error code for kInvalidSymbol/kApiError
  std::string message;    // venue "msg" or our parse error; empty when kOk

  [[nodiscard]] bool ok() const noexcept { return status == RestStatus::kOk; }
};

// REST weight of one klines request as a step function of its limit: the first step whose
// max_limit >= limit applies. Unused trailing steps are {0, 0}.
struct KlinesWeightStep {
  int max_limit;
  int weight;
};

// What the venue allows. Values come from the venue's documentation (see each adapter).
struct VenueLimits {
  int max_streams_per_connection;
  int max_control_msgs_per_s;  // incoming messages per second on one connection
  int max_connect_attempts;    // per connect_window_ms, per IP
  std::int64_t connect_window_ms;
  std::int64_t max_connection_age_ms;  // the venue cuts the connection after this
  std::int64_t server_ping_interval_ms;
  std::int64_t pong_deadline_ms;     // no pong within this: the venue disconnects
  std::int64_t kline_update_ms;      // push period of a kline stream (1s bars update faster)
  int rest_weight_per_minute;        // per IP
  int max_klines_per_request;
  std::array<KlinesWeightStep, 4> klines_weight_steps;
  const IntervalInfo* intervals;  // the venue's interval table
  std::size_t interval_count;

  // Weight of a klines request with this limit; the largest step for limits beyond the table.
  [[nodiscard]] constexpr int klines_weight(int limit) const noexcept {
    int last = 0;
    for (const auto& s : klines_weight_steps) {
      if (s.max_limit == 0) break;
      last = s.weight;
      if (limit <= s.max_limit) return s.weight;
    }
    return last;
  }

  [[nodiscard]] constexpr bool valid_interval(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < interval_count; ++i)
      if (intervals[i].name == name) return true;
    return false;
  }
};

}  // namespace mdfeed::adapter
