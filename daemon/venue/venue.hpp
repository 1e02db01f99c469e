// The venue boundary. A venue is one folder in daemon/ (daemon/<venue>/) that defines a Spec:
// its name, default URLs, limits and interval names, a WebSocket protocol object and a REST
// protocol. The venue owns the bytes and their meaning; core (daemon/core) owns sockets, TLS,
// time, backoff, staleness, rotation, pacing and the bar book. Adding a venue is that folder,
// one line in the registry (registry.cpp) and one fake-exchange protocol folder.
// docs/design.md, "The venue boundary", has the picture and the rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "venue/types.hpp"

namespace mdfeed::venue {

// One WebSocket connection's protocol state: its parser (bounded, reused) and its heartbeat.
// Core creates one per connection and calls it on the service thread only.
class WsProtocol {
 public:
  virtual ~WsProtocol();

  // The key parse() reports for the klines of (symbol, interval); interval is canonical.
  // Topics are also what subscribe frames carry.
  [[nodiscard]] virtual std::string kline_topic(std::string_view symbol,
                                                std::string_view interval) const = 0;

  // The request path (with query) on ws_url's host for a connection that will carry `topics`.
  // A venue that names streams in the URL (Binance combined streams) puts a prefix of them
  // there and returns how many in `in_url`; core subscribes the rest with subscribe_frames().
  [[nodiscard]] virtual std::string connect_path(const std::vector<std::string>& topics,
                                                 std::size_t& in_url) const = 0;

  // Frames that subscribe (or unsubscribe) `topics`, each within the venue's per-request
  // limits (count and bytes). Ids come from next_id, which the caller keeps per connection.
  [[nodiscard]] virtual std::vector<std::string> control_frames(
      const std::vector<std::string>& topics, bool subscribe, std::int64_t& next_id) const = 0;

  // The venue's application heartbeat: a frame to send now, or nothing. last_rx_ms is the
  // local monotonic time the connection last received anything; period_ms is the config's
  // heartbeat_s (default Limits::heartbeat_ms). The venue owns the rule (OKX: after period_ms
  // of receive silence; Bybit: every period_ms) and remembers what it sent itself. Venues whose
  // server pings (Binance) never return a frame.
  [[nodiscard]] virtual std::optional<std::string> heartbeat(std::int64_t now_ms,
                                                             std::int64_t last_rx_ms,
                                                             std::int64_t period_ms) = 0;

  // One complete message. The caller guarantees capacity >= len + kParsePadding bytes are
  // readable (simdjson). Never throws, never allocates per message once warmed up.
  [[nodiscard]] virtual Event parse(const char* data, std::size_t len,
                                    std::size_t capacity) noexcept = 0;

  // Why the last parse returned kError; "" after any other result.
  [[nodiscard]] virtual const char* last_error() const noexcept = 0;
};

// The venue's REST protocol: stateless functions (parsers are private to the calling thread).
struct RestProtocol {
  // Bars with open time in [start_open_ms, end_open_ms], at most `limit` of them (limit <=
  // Limits::max_klines_per_request), for a canonical interval. exchange_now_ms is the exchange
  // clock, for venues whose endpoint depends on how old the range is (OKX).
  KlinesRequest (*klines_request)(std::string_view symbol, std::string_view interval,
                                  std::int64_t start_open_ms, std::int64_t end_open_ms, int limit,
                                  std::int64_t exchange_now_ms);

  // What an answer means (any endpoint). Only a kOk answer's body is handed to a parser.
  RestOutcome (*classify)(const HttpAnswer& answer);

  // A kOk klines body: rows in ASCENDING open time, flagged kBarBackfilled (whether the newest
  // row is closed is core's call, on the exchange clock). out is cleared first and left empty
  // on failure (verdict kMalformed or kVenueError). symbol is the one the request was for: a
  // body need not name it, yet its meaning may depend on it (OKX volume units differ between
  // spot and swaps).
  RestOutcome (*parse_klines)(std::string_view body, std::string_view symbol,
                              std::string_view interval, std::vector<Bar>& out);

  std::string_view server_time_target;  // path and query
  int server_time_cost;
  std::optional<std::int64_t> (*parse_server_time)(std::string_view body);
};

struct Spec {
  std::string_view name;              // registry key: the config's exchange: value
  std::string_view default_ws_url;    // production, scheme://host[:port], no path
  std::string_view default_rest_url;  // production, scheme://host[:port], no path
  std::string_view rest_reset_header;  // header classify() wants as HttpAnswer::reset_header
  Limits limits;
  const IntervalName* intervals;  // the canonical intervals this venue serves, in order
  std::size_t interval_count;
  // One protocol object per connection; max_message_bytes bounds its parser's memory.
  std::unique_ptr<WsProtocol> (*make_ws)(std::size_t max_message_bytes);
  RestProtocol rest;

  // The venue's name for a canonical interval, or nullopt when the venue has none.
  [[nodiscard]] std::optional<std::string_view> venue_interval(
      std::string_view canonical) const noexcept;
  // "1m 3m 5m ..." in canonical names, for error messages.
  [[nodiscard]] std::string interval_list() const;
};

// The venue registered under name, or nullptr.
[[nodiscard]] const Spec* find(std::string_view name) noexcept;

// Every registered venue, in registry order.
struct SpecList {
  const Spec* const* first;
  std::size_t count;
  [[nodiscard]] const Spec* const* begin() const noexcept { return first; }
  [[nodiscard]] const Spec* const* end() const noexcept { return first + count; }
};
[[nodiscard]] SpecList all() noexcept;

// "binance binance-usdm okx ..." for error messages.
[[nodiscard]] std::string name_list();

}  // namespace mdfeed::venue
