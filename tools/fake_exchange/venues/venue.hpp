// One exchange protocol of the fake exchange. Every venue is served on the same port, routed by
// path, over the same ground truth (market.hpp) and the same faults; a venue only says what its
// wire looks like: which paths it owns, how clients subscribe and ping, how a kline is pushed and
// how its REST endpoints answer. The server (server*.cpp) owns connections, cursors, timing and
// faults.
//
// Adding a venue: one file in venues/ with a class derived from Venue and a line in
// make_venues() (registry.cpp). Pure logic, no lws: everything here is unit-testable.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_exchange/market.hpp"
#include "fake_exchange/options.hpp"
#include "fake_exchange/rest.hpp"
#include "fake_exchange/streams.hpp"

namespace mdfeed::fake {

// The answer to a WebSocket upgrade on a path the venue owns.
struct WsHandshake {
  std::string reject;                // non-empty: refuse the upgrade with this reason
  bool silent = false;               // accept, then never send anything (an unrouted URL)
  bool combined = true;              // Binance: wrap events as {"stream":..,"data":..}
  std::vector<std::string> streams;  // subscriptions from the URL, venue names, deduplicated
};

// The part of a connection a venue's message handler reads.
struct WsConnView {
  std::uint64_t id = 0;
  std::string_view path;  // the upgrade path, without the query
  bool combined = true;
  const std::vector<std::string>* topics = nullptr;  // current subscriptions, venue names
};

// What one client text message asks for. The server applies subscribe/unsubscribe (creating the
// kline cursors through parse_topic), then queues `replies`, then `pong` unless pings are being
// ignored (the ignore-pings fault).
struct WsAction {
  std::vector<std::string> subscribe;    // new names, validated and deduplicated
  std::vector<std::string> unsubscribe;  // names to drop
  std::vector<std::string> replies;
  std::optional<std::string> pong;    // an application-level heartbeat reply
  std::optional<bool> set_combined;   // Binance SET_PROPERTY combined
  std::string log;                    // one event-log line ("subscribe ..."), if any
};

// Per-venue WebSocket rules the server enforces.
struct WsRules {
  int max_streams = 1024;
  int ctrl_limit_per_s = 0;       // incoming messages per second before a 1008 close; 0 = none
  std::int64_t idle_close_ms = 0;  // no traffic either way for this long: close; 0 = never
  int idle_close_code = 1000;      // the close frame's code and reason for that
  std::string_view idle_close_reason = "idle";
  bool kline_probe = false;       // --latency-probe applies (Binance spot shape only)
};

// A REST request as a venue sees it. take_fault() consumes one injected rest-429/rest-418
// (klines endpoints call it first and answer with the venue's own rate-limit reply).
enum class RestFault { kNone, kRateLimit, kBan };
struct RestEnv {
  MarketView market;
  std::int64_t real_ms = 0;  // monotonic, for rate-limit windows
  std::int64_t fault_retry_s = 1;
  RestFault (*take_fault)(void* ctx, std::int64_t& retry_s) = nullptr;
  void* fault_ctx = nullptr;
  RestFault fault() {
    return take_fault ? take_fault(fault_ctx, fault_retry_s) : RestFault::kNone;
  }
};

class Venue {
 public:
  virtual ~Venue() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;

  // --- WebSocket ---
  // nullopt: not this venue's path. Otherwise accept (possibly silently) or reject.
  [[nodiscard]] virtual std::optional<WsHandshake> ws_handshake(std::string_view path,
                                                                const QueryArgs& args) const = 0;
  [[nodiscard]] virtual WsRules ws_rules() const = 0;
  // A subscription name: whether the venue accepts it and, for a kline topic, its truth key.
  [[nodiscard]] virtual ParsedStream parse_topic(std::string_view name) const = 0;
  [[nodiscard]] virtual WsAction on_message(const WsConnView& c, std::string_view message,
                                            bool binary, simdjson::dom::parser& parser) = 0;
  // One kline push for subscription `topic`: the bar as it stands at event_ms.
  [[nodiscard]] virtual std::string kline_push(std::string_view topic, const StreamKey& key,
                                               std::int64_t event_ms, const BarUnits& bar,
                                               bool closed, bool combined) const = 0;
  // The venue's "reconnect now" event (Binance serverShutdown), if it has one.
  [[nodiscard]] virtual std::optional<std::string> shutdown_event(std::int64_t,
                                                                  bool) const {
    return std::nullopt;
  }

  // --- REST --- nullopt: not this venue's path.
  [[nodiscard]] virtual std::optional<HttpResponse> rest(std::string_view path,
                                                         const QueryArgs& args, RestEnv& env) = 0;
};

using VenueList = std::vector<std::unique_ptr<Venue>>;

// Every venue, in routing order (registry.cpp).
[[nodiscard]] VenueList make_venues(const Options& options);

// --- Shared helpers for venue implementations (venue.cpp) ----------------------------------------

[[nodiscard]] bool symbol_listed(const MarketView& m, std::string_view symbol);

// Open times of existing bars with from <= open <= to (either bound optional), at most `limit`,
// NEWEST FIRST: the newest ones when newest_first_pick, else the oldest ones of the range
// (still returned newest first). Never before history_start, never after the bar holding
// sim_now (which is included: it is still forming).
[[nodiscard]] std::vector<std::int64_t> open_times_desc(std::string_view interval,
                                                        std::optional<std::int64_t> from_ms,
                                                        std::optional<std::int64_t> to_ms,
                                                        int limit, bool newest_pick,
                                                        const MarketView& m);

// The bar at open_ms as REST serves it at m.sim_now_ms: forming if it holds sim_now.
[[nodiscard]] BarUnits rest_bar(std::string_view symbol, std::string_view interval,
                                std::int64_t open_ms, const MarketView& m);
[[nodiscard]] bool bar_is_forming(std::string_view interval, std::int64_t open_ms,
                                  const MarketView& m);

// A venue-interval table lookup: venue name -> canonical interval, and back.
struct IntervalName {
  std::string_view venue;
  std::string_view canonical;
};
[[nodiscard]] std::optional<std::string_view> to_canonical(const IntervalName* table,
                                                           std::size_t n, std::string_view venue);
void append_quoted(std::string& out, std::string_view s);
void append_quoted_units(std::string& out, std::int64_t units);
void append_int(std::string& out, std::int64_t v);
// A short connection id like the venues send ("a4d3ae6f-..."), derived from the connection number.
[[nodiscard]] std::string conn_id_string(std::uint64_t id);

// Simple fixed-window request counter (OKX 2 s, Bybit 5 s windows of real time).
class RequestWindow {
 public:
  RequestWindow(std::int64_t limit, std::int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}
  // Counts one request; false when it is over the limit. retry_ms = time to the window's end.
  bool allow(std::int64_t real_ms, std::int64_t& retry_ms);

 private:
  std::int64_t limit_, window_ms_;
  std::int64_t window_ = -1;
  std::int64_t used_ = 0;
};

}  // namespace mdfeed::fake
