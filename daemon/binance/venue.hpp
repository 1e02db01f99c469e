// Binance spot: endpoints and limits, in one place. Sources: Binance spot API docs
// ("WebSocket Streams" general information and limits; REST "Kline/Candlestick data"; "LIMITS").
#pragma once

#include <iterator>
#include <string_view>

#include <mdfeed/names.hpp>

#include "adapter/types.hpp"

namespace mdfeed::binance {

using adapter::KlinesWeightStep;
using adapter::VenueLimits;

inline constexpr std::string_view kDefaultWsUrl = "wss://stream.binance.com:9443";
inline constexpr std::string_view kDefaultRestUrl = "https://api.binance.com";
inline constexpr std::string_view kServerTimeTarget = "/api/v3/time";
inline constexpr std::string_view kKlinesPath = "/api/v3/klines";

inline constexpr VenueLimits kSpotLimits = {
    /*max_streams_per_connection=*/1024,
    // Counts every incoming frame: SUBSCRIBE-like JSON, but also our pings and pongs.
    /*max_control_msgs_per_s=*/5,
    /*max_connect_attempts=*/300,
    /*connect_window_ms=*/5 * 60'000,
    /*max_connection_age_ms=*/24 * 3'600'000,
    /*server_ping_interval_ms=*/20'000,
    /*pong_deadline_ms=*/60'000,
    /*kline_update_ms=*/2'000,  // 1'000 for 1s bars
    /*rest_weight_per_minute=*/6000,
    /*max_klines_per_request=*/1000,
    // Spot /api/v3/klines weighs 2 whatever the limit (1..1000). USD-M futures, by contrast,
    // step with the limit (1/2/5/10), which is why this is a table.
    /*klines_weight_steps=*/{{{1000, 2}, {0, 0}, {0, 0}, {0, 0}}},
    /*intervals=*/kIntervals,
    /*interval_count=*/std::size(kIntervals),
};

}  // namespace mdfeed::binance
