// Venue-neutral values every venue produces or describes: what a WebSocket message turned out to
// be (an Event), what a REST answer means (a RestOutcome), and the venue's limits. Core code
// (daemon/core, the bar book) knows only these; the bytes and their meaning belong to the venue
// folders (docs/design.md, "The venue boundary").
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <mdfeed/layout.hpp>

namespace mdfeed::venue {

// Bytes a message buffer must extend past the data: simdjson reads whole SIMD blocks.
// Equal to SIMDJSON_PADDING (checked where simdjson is included), repeated here so that code
// filling buffers need not include simdjson.
inline constexpr std::size_t kParsePadding = 64;

// "The venue did not stamp this message with a time" (OKX candles carry only the bar's open).
inline constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

enum class EventKind : std::uint8_t {
  kKline,         // a kline update: topic and bar set
  kTrade,         // a public trade: topic and trade set (forming bars from trades, later)
  kIgnored,       // valid traffic mdfeed does not use (books, tickers, ...): skip silently
  kControlReply,  // the answer to a subscribe/unsubscribe: control set
  kShutdown,      // the venue is about to close this connection: open a replacement now
  kNotice,        // informational venue message (text set): logged, nothing else
  kPong,          // the answer to our application heartbeat
  kError,         // malformed or unexpected; the parser's last_error() says why
};
[[nodiscard]] const char* to_string(EventKind k) noexcept;

// The answer to a control request. A venue that answers a whole batch with one reply sets id to
// that request's id; an unparseable or absent id is -1.
struct ControlReply {
  std::int64_t id = -1;
  bool ok = false;
  std::int64_t error_code = 0;
  std::string_view error_msg;  // valid until the next parse
};

struct Trade {
  std::int64_t time_ms = kNoTime;
  double price = 0;
  double quantity = 0;
  bool buyer_is_maker = false;
  std::uint64_t first_id = 0;  // venue trade id range this message covers (first == last: one)
  std::uint64_t last_id = 0;
};

// One parsed WebSocket message. Views point into the parser or the input buffer and stay valid
// until the next parse on the same protocol object.
struct Event {
  EventKind kind = EventKind::kIgnored;
  // kKline/kTrade: the venue's key for the stream, equal to WsProtocol::kline_topic(symbol,
  // interval) of the stream it belongs to. Core routes by it and never looks inside.
  std::string_view topic;
  // The exchange time the venue stamped on the message (Binance E, Bybit ts), or kNoTime.
  std::int64_t event_time_ms = kNoTime;
  // kKline: the bar. flags: kBarClosed iff this is the bar's final update; kBarNoTrades when
  // the venue does not count trades (then trades is 0 and meaningless). Fields the venue does
  // not send are NaN (docs/design.md: "unknown, never zero").
  Bar bar{};
  Trade trade{};
  ControlReply control;   // kControlReply
  std::string_view text;  // kNotice, kShutdown: the venue's words, if any
};

// What a REST answer means, decided by the venue from status, headers and body.
enum class RestVerdict : std::uint8_t {
  kOk,             // parse the body
  kRetryAfter,     // rate limited: pause this feed's REST for wait_ms, then retry
  kBanned,         // the venue has banned this IP: stop ALL REST to it for wait_ms
  kInvalidSymbol,  // the venue says the instrument does not exist: give up on that stream
  kVenueError,     // any other venue error (code, message): retry with backoff
  kMalformed,      // not the venue's protocol (bad JSON, unexpected status): retry with backoff
};
[[nodiscard]] const char* to_string(RestVerdict v) noexcept;

struct RestOutcome {
  RestVerdict verdict = RestVerdict::kOk;
  std::int64_t wait_ms = 0;  // kRetryAfter, kBanned: how long to stay away (0: core's default)
  std::int64_t code = 0;     // the venue's error code or the HTTP status
  std::string message;       // the venue's words or our parse error; empty when kOk

  [[nodiscard]] bool ok() const noexcept { return verdict == RestVerdict::kOk; }
};

// An HTTP answer as core received it: what classify() may look at.
struct HttpAnswer {
  int status = 0;
  std::string_view body;
  std::string_view retry_after;   // Retry-After header, "" when absent
  std::string_view reset_header;  // the venue's Spec::rest_reset_header, "" when absent
  // The exchange clock when it arrived (the local wall clock until the clock is known): a
  // venue's absolute reset time is in the venue's time, not this host's.
  std::int64_t exchange_now_ms = 0;
};

// The order rows come back in from the venue. Core always receives them ascending (the venue's
// parser reverses newest-first pages); the direction is declared for paging and the docs.
enum class Paging : std::uint8_t { kOldestFirst, kNewestFirst };

// One REST klines request for bars with open time in [start_open_ms, end_open_ms].
struct KlinesRequest {
  std::string target;  // path and query, appended to rest_url
  int cost = 1;        // in the venue's REST budget units (Binance weight, requests elsewhere)
  Paging order = Paging::kOldestFirst;
};

// What the venue allows, from its documentation (each venue folder cites it). These are the
// defaults and bounds of the matching config keys (daemon/config/config_keys.cpp).
struct Limits {
  // WebSocket
  std::uint32_t max_streams_per_connection;  // bound of max_streams_per_conn
  std::uint32_t max_topics_per_request;      // subscribe batching
  std::uint32_t max_control_msgs_per_s;      // venue's incoming-message limit per connection
  std::uint32_t default_control_msgs_per_s;  // config default: leaves room for pings
  std::uint32_t max_connect_attempts;        // per connect_window_ms, per IP
  std::int64_t connect_window_ms;
  std::int64_t connection_lifetime_ms;  // the venue cuts a connection this old; 0: never
  std::int64_t heartbeat_ms;            // our application ping period; 0: venue pings us
  std::int64_t pong_deadline_ms;        // a heartbeat unanswered this long: reconnect
  std::int64_t kline_push_ms;           // slowest regular push period of a kline stream
  bool event_time;                      // kline pushes carry an exchange timestamp
  // REST
  std::uint32_t rest_budget;  // cost units per rest_window_ms, per IP
  std::int64_t rest_window_ms;
  std::uint32_t max_klines_per_request;
  std::int64_t ban_default_ms;  // stay away this long after a ban with no stated end
};

// A canonical interval (mdfeed's name, used everywhere outside the venue) and the venue's own.
struct IntervalName {
  std::string_view canonical;
  std::string_view venue;
};

}  // namespace mdfeed::venue
