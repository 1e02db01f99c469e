// Binance's own parse results: what its WebSocket parser and REST parser return before the spec
// (spec.cpp) turns them into venue-neutral Events and RestOutcomes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <mdfeed/layout.hpp>

namespace mdfeed::binance {

enum class MsgKind {
  kKline,           // a kline update; KlineMsg filled
  kTrade,           // an aggTrade event; KlineMsg::trade filled (stream, symbol, event time too)
  kNotKline,        // valid traffic we do not use (depth, bookTicker, ...): skip silently
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

// One aggTrade event (spot and USD-M/COIN-M futures share the shape): the trades of one taker
// order at one price, ids first_id..last_id. https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
struct AggTrade {
  std::uint64_t agg_id = 0;     // a
  double price = 0;             // p
  double quantity = 0;          // q
  std::uint64_t first_id = 0;   // f
  std::uint64_t last_id = 0;    // l
  std::int64_t trade_time_ms = 0;  // T
  bool buyer_is_maker = false;  // m
};

// One parsed kline message. The views point into the parser or the input buffer and stay valid
// until the next parse (or until the input buffer is reused).
struct KlineMsg {
  std::string_view stream;    // combined-stream name; empty for a raw (non-combined) message
  std::string_view symbol;    // as the venue sends it (Binance: upper case, k.s)
  std::string_view interval;  // "1m"
  std::int64_t event_time_ms = 0;  // E: exchange clock; also set for kServerShutdown when sent
  Bar bar{};                       // flags: kBarClosed iff this is the bar's final update
  AggTrade trade{};                // only for kTrade
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

}  // namespace mdfeed::binance
