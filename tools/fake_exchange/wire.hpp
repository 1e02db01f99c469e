// Non-kline messages the fake exchange sends: junk frames for the "garbage" fault, an exact-size
// message for "oversize", and Binance's serverShutdown event. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "fake_exchange/streams.hpp"

namespace mdfeed::fake {

inline constexpr int kGarbageKinds = 6;

// Junk frame number `seq` (kinds cycle): 0 not JSON, 1 invalid JSON, 2 a kline whose fields
// have the wrong types ("t":"abc"), 3 a kline missing most fields (with "x":true), 4 a real
// kline message cut in half, 5 a combined envelope with "data":null. Kinds 1-5 name `key`'s
// stream so they reach the client's kline handler. Never valid klines.
[[nodiscard]] std::string garbage_frame(std::uint64_t seq, const StreamKey& key,
                                        std::int64_t sim_now_ms);

// A text message of exactly `bytes` bytes, valid JSON when it is long enough to be.
[[nodiscard]] std::string oversize_message(std::size_t bytes);

// serverShutdown: raw {"e":"serverShutdown","E":N}; on combined-stream connections wrapped as
// {"stream":"!serverShutdown","data":{...}} like every other combined event.
[[nodiscard]] std::string shutdown_event(std::int64_t event_time_ms, bool combined);

}  // namespace mdfeed::fake
