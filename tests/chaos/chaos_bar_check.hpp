// Bar checks shared by the chaos reader process and the chaos tests: bit-exact comparison with
// the fake exchange's ground truth, and what a forming bar may look like before it closes.
#pragma once

#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#include "fake_exchange/market.hpp"
#include "mdfeed/layout.hpp"

namespace mdfeed::chaos {

// CLOCK_MONOTONIC in ns: the clock of the ring heartbeat, of std::chrono::steady_clock and of
// Python's time.monotonic_ns(), so timestamps from different processes compare directly.
inline std::int64_t mono_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

// Bit for bit (memcmp per double, so -0.0 != 0.0 and a NaN never passes), flags excluded:
// the ring adds kBarBackfilled to bars that came over REST.
inline bool bits_equal(const Bar& a, const Bar& b) noexcept {
  auto same = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  return a.open_time_ms == b.open_time_ms && a.close_time_ms == b.close_time_ms &&
         same(a.open, b.open) && same(a.high, b.high) && same(a.low, b.low) &&
         same(a.close, b.close) && same(a.volume, b.volume) &&
         same(a.quote_volume, b.quote_volume) && same(a.taker_buy_volume, b.taker_buy_volume) &&
         same(a.taker_buy_quote_volume, b.taker_buy_quote_volume) && a.trades == b.trades;
}

// Empty if the closed bar equals truth bit for bit, else what differs first.
inline std::string closed_bar_problem(const std::string& symbol, const std::string& interval,
                                      const Bar& b) {
  if (!b.closed()) return "bar " + std::to_string(b.open_time_ms) + " is not marked closed";
  const Bar t = fake::truth_bar(symbol, interval, b.open_time_ms);
  if (t.open_time_ms != b.open_time_ms)
    return "open time " + std::to_string(b.open_time_ms) + " is not a bar boundary";
  if (!bits_equal(b, t)) return "bar " + std::to_string(b.open_time_ms) + " differs from truth";
  return {};
}

// A forming bar is some snapshot of the bar it will close as: same open, open/close times, and
// (fake market.hpp) high only rises, low only falls, trades and volumes only grow towards the
// final values. A bar mixed from two writes would break one of these.
inline std::string forming_bar_problem(const std::string& symbol, const std::string& interval,
                                       const Bar& b) {
  if (b.closed()) return "forming bar " + std::to_string(b.open_time_ms) + " is marked closed";
  const Bar t = fake::truth_bar(symbol, interval, b.open_time_ms);
  const bool ok = t.open_time_ms == b.open_time_ms && t.close_time_ms == b.close_time_ms &&
                  std::memcmp(&t.open, &b.open, sizeof b.open) == 0 && b.high <= t.high &&
                  b.low >= t.low && b.low <= b.high && b.open <= b.high && b.open >= b.low &&
                  b.close <= b.high && b.close >= b.low && b.volume <= t.volume &&
                  b.quote_volume <= t.quote_volume && b.trades <= t.trades;
  if (!ok) return "forming bar " + std::to_string(b.open_time_ms) + " is not a snapshot of truth";
  return {};
}

}  // namespace mdfeed::chaos
