// Latency-probe klines (--latency-probe, for bench/e2e): a forming update that carries its own
// sequence number and CLOCK_MONOTONIC send time, so a reader on the same host can time the whole
// path exchange -> daemon -> ring -> reader. Pure formatting; the server supplies the values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mdfeed::fake {

// CLOCK_MONOTONIC in ns: the same clock every process on the host reads.
[[nodiscard]] std::uint64_t probe_now_ns() noexcept;

// A kline update for the bar opening at open_ms, not closed, with
//   n (trades) = c (close) = h (high) = seq     (the book accepts it: trades never decrease)
//   v (volume) = q (quote volume) = send_ns     (exact in a double up to 2^53 ns, ~104 days)
//   o = l = 1, V = Q = 0, f = 1, L = seq.
// Wrapped as {"stream":..,"data":..} when combined, like kline_message().
[[nodiscard]] std::string probe_kline_message(std::string_view symbol, std::string_view interval,
                                              std::int64_t event_time_ms, std::int64_t open_ms,
                                              std::uint64_t seq, std::uint64_t send_ns,
                                              bool combined);

}  // namespace mdfeed::fake
