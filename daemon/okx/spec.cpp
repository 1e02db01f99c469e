// OKX v5 behind the venue boundary: the interval table, the limits and the Spec.
// Sources: OKX API v5 docs (https://www.okx.com/docs-v5/en/): "Overview / WebSocket /
// Connect" and "... / Subscribe" (connection and subscription limits, 64 KB, ping/pong),
// "Order book trading / Market data": "Get candlesticks", "Get candlesticks history" and
// "WS / Candlesticks channel" (push at most once a second), "Public data / Get system time";
// summarised in docs/design.md, "Venue protocol facts".
#include "okx/spec.hpp"

#include "okx/protocol.hpp"

namespace mdfeed::okx {

std::string_view canonical_interval(std::string_view okx_bar) noexcept {
  for (const auto& i : kIntervals)
    if (i.venue == okx_bar) return i.canonical;
  return {};
}

std::string_view okx_interval(std::string_view canonical) noexcept {
  for (const auto& i : kIntervals)
    if (i.canonical == canonical) return i.venue;
  return {};
}

bool is_derivative(std::string_view inst_id) noexcept {
  const std::size_t first = inst_id.find('-');
  return first != std::string_view::npos && inst_id.find('-', first + 1) != std::string_view::npos;
}

const venue::Spec kSpec = {
    /*name=*/"okx",
    /*default_ws_url=*/"wss://ws.okx.com:8443",
    /*default_rest_url=*/"https://www.okx.com",
    /*rest_reset_header=*/"",
    /*limits=*/
    {
        // OKX documents no per-connection cap on channels (only 30 connections per channel
        // per sub-account, which concerns private channels); 240 keeps a reconnect's resubscribe
        // to three requests of the 480 an hour, and one connection's loss to a bounded number
        // of streams.
        /*max_streams_per_connection=*/240,
        /*max_topics_per_request=*/kMaxTopicsPerRequest,
        // 480 subscribe/unsubscribe/login requests per hour per connection (an average of one
        // per 7.5 s) and 3 new connections/s per IP; a burst of 3 requests a second is what
        // OKX's own connectors allow. Core pacing does not model the hourly budget; with at most
        // 240 streams at 100 per request a connection spends 3 of it per (re)subscribe.
        /*max_control_msgs_per_s=*/3,
        /*default_control_msgs_per_s=*/1,
        /*max_connect_attempts=*/3,  // new connections per second per IP
        /*connect_window_ms=*/1'000,
        /*connection_lifetime_ms=*/0,  // no documented cut (only notice 64008 before upgrades)
        // The client pings: `ping` after 20 s of silence (OKX drops a connection silent for
        // 30 s), and expects `pong` within N < 30 s; 10 s leaves the ping time to arrive.
        /*heartbeat_ms=*/kPingAfterMs,
        /*pong_deadline_ms=*/10'000,
        // "Fastest push frequency: 1 push per second", but pushes follow changes: a quiet
        // instrument can go long without one. The slowest regular gap is bounded only by OKX
        // closing a connection after 30 s without data, which our ping (after 20 s of silence)
        // prevents. So 30 s: stale_after_s then defaults to 75 s, and a connection carrying only
        // quiet instruments is not replaced every 10 s; liveness is the ping/pong above.
        /*kline_push_ms=*/30'000,
        /*event_time=*/false,  // a push carries only the bar's open time
        // history-candles: 20 requests / 2 s per IP (candles allows 40); every request costs 1
        // against the stricter of the two.
        /*rest_budget=*/20,
        /*rest_window_ms=*/2'000,
        // history-candles pages hold 100 rows (candles 300): one page fits either endpoint.
        /*max_klines_per_request=*/100,
        // OKX documents no IP ban, only 429/50011 per 2 s window; a ban we cannot see the end
        // of waits five windows.
        /*ban_default_ms=*/10'000,
    },
    /*intervals=*/kIntervals,
    /*interval_count=*/kIntervalCount,
    /*make_ws=*/&make_ws,
    /*rest=*/{&klines_request, &classify, &parse_klines, "/api/v5/public/time", 1,
              &parse_server_time},
};

}  // namespace mdfeed::okx
