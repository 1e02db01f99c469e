// Bybit v5 spot and linear behind the venue boundary: the shared protocol (protocol.hpp) bound
// to each market's path, category and limits.
// Sources (Bybit v5 API docs, https://bybit-exchange.github.io/docs/v5/...):
//  - ws/connect: public URLs wss://stream.bybit.com/v5/public/{spot,linear}; "Do not build over
//    500 connections in 5 minutes"; args of one public connection <= 21,000 characters; "Spot
//    can input up to 10 args for each subscription request"; "No args limit for Futures"; ping
//    every 20 s; without ping-pong or data the connection is cut after 10 minutes.
//  - websocket/public/kline: topic kline.{interval}.{symbol}, push frequency 1-60 s, ts on
//    every push, confirm true on the bar's final tick.
//  - rate-limit: 600 requests per 5-second window per IP; "403, access too frequent": stop all
//    HTTP for at least 10 minutes; retCode 10006 and X-Bapi-Limit-Reset-Timestamp.
//  - market/kline: limit [1, 1000], rows newest first; market/time.
#include "bybit/spec.hpp"

#include <iterator>

#include "bybit/protocol.hpp"

namespace mdfeed::bybit {
namespace {

// Spot: "up to 10 args for each subscription request". Linear has no documented per-request
// cap; 10 keeps every frame small and the two markets alike.
constexpr std::uint32_t kArgsPerRequest = 10;

// "args" of one public connection must stay within 21,000 characters. The longest topic is
// "kline.720." (10) + a 31-character symbol (names.hpp caps symbols at 31) = 41 characters,
// 44 with its quotes and comma in the JSON array. 450 x 44 = 19,800 < 21,000 (477 would fit;
// the rest is margin for however Bybit counts).
constexpr std::uint32_t kMaxStreamsPerConnection = 450;

constexpr std::int64_t kHeartbeatMs = 20'000;

constexpr venue::Limits kLimits = {
    /*max_streams_per_connection=*/kMaxStreamsPerConnection,
    /*max_topics_per_request=*/kArgsPerRequest,
    // Bybit documents no per-connection message rate for public streams; 10/s bounds us, and
    // the default of 5 leaves room for the ping.
    /*max_control_msgs_per_s=*/10,
    /*default_control_msgs_per_s=*/5,
    /*max_connect_attempts=*/500,
    /*connect_window_ms=*/5 * 60'000,
    /*connection_lifetime_ms=*/0,  // public connections are not cut while pinged
    /*heartbeat_ms=*/kHeartbeatMs,
    // A pong normally returns within a round trip; 10 s (half the ping period) tolerates a slow
    // path yet notices a dead connection within 30 s of its last pong, long before Bybit's own
    // 10-minute idle cut.
    /*pong_deadline_ms=*/10'000,
    /*kline_push_ms=*/60'000,  // "Push frequency: 1-60s"
    /*event_time=*/true,       // ts
    /*rest_budget=*/600,
    /*rest_window_ms=*/5'000,
    /*max_klines_per_request=*/1000,
    /*ban_default_ms=*/kBanMs,
};

std::unique_ptr<venue::WsProtocol> make_spot_ws(std::size_t max_bytes) {
  return make_ws("/v5/public/spot", kArgsPerRequest, max_bytes);
}

std::unique_ptr<venue::WsProtocol> make_linear_ws(std::size_t max_bytes) {
  return make_ws("/v5/public/linear", kArgsPerRequest, max_bytes);
}

venue::KlinesRequest spot_klines(std::string_view symbol, std::string_view interval,
                                 std::int64_t start, std::int64_t end, int limit, std::int64_t) {
  return klines_request("spot", symbol, interval, start, end, limit);
}

venue::KlinesRequest linear_klines(std::string_view symbol, std::string_view interval,
                                   std::int64_t start, std::int64_t end, int limit, std::int64_t) {
  return klines_request("linear", symbol, interval, start, end, limit);
}

}  // namespace

const venue::Spec kSpotSpec = {
    /*name=*/"bybit-spot",
    /*default_ws_url=*/"wss://stream.bybit.com",
    /*default_rest_url=*/"https://api.bybit.com",
    /*rest_reset_header=*/"X-Bapi-Limit-Reset-Timestamp",
    /*limits=*/kLimits,
    /*intervals=*/kIntervals,
    /*interval_count=*/std::size(kIntervals),
    /*make_ws=*/&make_spot_ws,
    /*rest=*/{&spot_klines, &classify, &parse_klines, "/v5/market/time", 1, &parse_server_time},
};

const venue::Spec kLinearSpec = {
    /*name=*/"bybit-linear",
    /*default_ws_url=*/"wss://stream.bybit.com",
    /*default_rest_url=*/"https://api.bybit.com",
    /*rest_reset_header=*/"X-Bapi-Limit-Reset-Timestamp",
    /*limits=*/kLimits,
    /*intervals=*/kIntervals,
    /*interval_count=*/std::size(kIntervals),
    /*make_ws=*/&make_linear_ws,
    /*rest=*/{&linear_klines, &classify, &parse_klines, "/v5/market/time", 1, &parse_server_time},
};

}  // namespace mdfeed::bybit
