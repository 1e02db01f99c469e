// Helpers shared by the C++ tests: a private temporary directory per test, and bar generators
// whose fields carry invariants a torn read would break.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "mdfeed/layout.hpp"

namespace mdfeed::test {

// mkdtemp'd directory, removed recursively on destruction. Tests never share a shm dir, so
// they run in parallel under ctest -j.
class TempDir {
 public:
  explicit TempDir(const char* prefix = "mdfeed-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline constexpr std::int64_t kBaseOpenMs = 1'700'000'040'000;  // minute-aligned
inline constexpr std::int64_t kMinuteMs = 60'000;

inline double close_of(std::int64_t open_time_ms) {
  return static_cast<double>((open_time_ms / kMinuteMs) % 100'003) * 0.25 + 7.0;
}

// Bar number i of a synthetic 1m series. Every field is a function of i (and `rev`, the number
// of forming updates so far), so any mix of two writes is detectable.
inline Bar synth_bar(std::uint64_t i, std::uint64_t rev = 0, bool closed = true) {
  Bar b{};
  b.open_time_ms = kBaseOpenMs + static_cast<std::int64_t>(i) * kMinuteMs;
  b.close_time_ms = b.open_time_ms + kMinuteMs - 1;
  b.open = static_cast<double>(i % 1'000'000) + 100.0;
  b.high = b.open + 1.5 + static_cast<double>(rev);
  b.low = b.open - 1.0;
  b.close = close_of(b.open_time_ms) + static_cast<double>(rev);
  b.volume = static_cast<double>(rev) * 2.0 + 1.0;
  b.quote_volume = b.volume * b.open;
  b.taker_buy_volume = b.volume / 2.0;
  b.taker_buy_quote_volume = b.quote_volume / 2.0;
  b.trades = i * 1000 + rev;
  b.flags = closed ? kBarClosed : 0;
  return b;
}

// b as a venue without trade counts or taker-buy volumes (OKX, Bybit) stores it: those doubles
// NaN, trades 0 and kBarNoTrades set (DESIGN.md: fields a venue does not send are unknown).
inline Bar with_unknown_fields(Bar b) {
  b.taker_buy_volume = std::numeric_limits<double>::quiet_NaN();
  b.taker_buy_quote_volume = std::numeric_limits<double>::quiet_NaN();
  b.trades = 0;
  b.flags |= kBarNoTrades;
  return b;
}

// True if b is exactly synth_bar(i, rev) for the i its open time implies and some rev.
inline bool synth_consistent(const Bar& b) {
  if ((b.open_time_ms - kBaseOpenMs) % kMinuteMs != 0 || b.open_time_ms < kBaseOpenMs) return false;
  const auto i = static_cast<std::uint64_t>((b.open_time_ms - kBaseOpenMs) / kMinuteMs);
  const std::uint64_t rev = b.trades - i * 1000;
  if (b.trades < i * 1000 || rev >= 1000) return false;
  const Bar want = synth_bar(i, rev, b.closed());
  return b.close_time_ms == want.close_time_ms && b.open == want.open && b.high == want.high &&
         b.low == want.low && b.close == want.close && b.volume == want.volume &&
         b.quote_volume == want.quote_volume && b.taker_buy_volume == want.taker_buy_volume &&
         b.taker_buy_quote_volume == want.taker_buy_quote_volume;
}

}  // namespace mdfeed::test
