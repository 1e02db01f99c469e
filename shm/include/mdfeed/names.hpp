// Ring naming shared by the writer, the readers and mdfeed-ctl: intervals, name validation and
// the path of a ring file. Header-only, C++17, no dependencies.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mdfeed {

inline constexpr const char* kDefaultShmDir = "/dev/shm/mdfeed";
inline constexpr const char* kRingSuffix = ".ring";

struct IntervalInfo {
  std::string_view name;
  std::int64_t ms;  // nominal length; 1M is a calendar month (31 days here, exact via next_open)
};

// Binance's intervals, in order.
inline constexpr IntervalInfo kIntervals[] = {
    {"1s", 1000},          {"1m", 60'000},         {"3m", 180'000},       {"5m", 300'000},
    {"15m", 900'000},      {"30m", 1'800'000},     {"1h", 3'600'000},     {"2h", 7'200'000},
    {"4h", 14'400'000},    {"6h", 21'600'000},     {"8h", 28'800'000},    {"12h", 43'200'000},
    {"1d", 86'400'000},    {"3d", 259'200'000},    {"1w", 604'800'000},   {"1M", 2'678'400'000},
};

[[nodiscard]] inline std::optional<std::int64_t> interval_ms(std::string_view name) noexcept {
  for (const auto& i : kIntervals)
    if (i.name == name) return i.ms;
  return std::nullopt;
}

[[nodiscard]] inline std::string interval_list() {
  std::string s;
  for (const auto& i : kIntervals) {
    if (!s.empty()) s += ' ';
    s += i.name;
  }
  return s;
}

// Open time of the bar after the one opening at open_ms. Exact for calendar months too.
[[nodiscard]] inline std::int64_t next_open_ms(std::string_view interval, std::int64_t open_ms) {
  if (interval != "1M") return open_ms + interval_ms(interval).value_or(60'000);
  std::time_t secs = static_cast<std::time_t>(open_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  tm.tm_mon += 1;
  if (tm.tm_mon == 12) {
    tm.tm_mon = 0;
    tm.tm_year += 1;
  }
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

// Feed names: [a-z0-9_-]{1,31}. Symbols: [A-Z0-9_-]{1,31}. Nothing that could escape the shm
// directory or collide with the separators used in file names.
[[nodiscard]] inline bool valid_feed_name(std::string_view s) noexcept {
  if (s.empty() || s.size() >= 32) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

[[nodiscard]] inline bool valid_symbol_name(std::string_view s) noexcept {
  if (s.empty() || s.size() >= 32) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

namespace detail {
// A NUL-padded name field of a mapped header (at most n bytes, maybe without a NUL).
inline std::string header_name(const char* s, std::size_t n) {
  std::size_t len = 0;
  while (len < n && s[len] != '\0') ++len;
  return std::string(s, len);
}
}  // namespace detail

// shm dir resolution: explicit, then $MDFEED_SHM_DIR, then /dev/shm/mdfeed.
[[nodiscard]] inline std::string resolve_shm_dir(std::string_view explicit_dir = {}) {
  if (!explicit_dir.empty()) return std::string(explicit_dir);
  if (const char* env = std::getenv("MDFEED_SHM_DIR"); env != nullptr && *env != '\0') return env;
  return kDefaultShmDir;
}

[[nodiscard]] inline std::string ring_dir(std::string_view shm_dir, std::string_view feed) {
  std::string p(shm_dir);
  p += '/';
  p += feed;
  return p;
}

[[nodiscard]] inline std::string ring_path(std::string_view shm_dir, std::string_view feed,
                                           std::string_view symbol, std::string_view interval) {
  std::string p = ring_dir(shm_dir, feed);
  p += '/';
  p += symbol;
  p += '.';
  p += interval;
  p += kRingSuffix;
  return p;
}

}  // namespace mdfeed
