// Bar open-time arithmetic for one interval: stepping, close times, alignment. Fixed-length
// intervals are plain integer arithmetic; 1M steps UTC calendar months (no libc, no time zone).
#pragma once

#include <cstdint>
#include <string_view>

namespace mdfeed {

class BarGrid {
 public:
  // Throws std::invalid_argument for a name that is not in kIntervals (names.hpp).
  explicit BarGrid(std::string_view interval);

  // Open time of the bar after / before the one opening at open_ms.
  [[nodiscard]] std::int64_t next(std::int64_t open_ms) const noexcept;
  [[nodiscard]] std::int64_t prev(std::int64_t open_ms) const noexcept;
  // open_ms moved by `bars` bars (negative: back). For 1M the result is a month start.
  [[nodiscard]] std::int64_t advance(std::int64_t open_ms, std::int64_t bars) const noexcept;
  // Exchange convention: T = next open - 1 ms.
  [[nodiscard]] std::int64_t close_time(std::int64_t open_ms) const noexcept {
    return next(open_ms) - 1;
  }
  // Open time of the bar that contains instant t_ms, on the venue's grid: epoch-aligned, except
  // 1w (Monday 00:00 UTC) and 1M (the 1st 00:00 UTC). Only used where no real open time is
  // known yet (the startup backfill window); everything else steps from real open times.
  [[nodiscard]] std::int64_t open_containing(std::int64_t t_ms) const noexcept;
  // The first bar at or after from_open_ms that has not ended at now_ms (close_time >= now_ms).
  // O(1): it never steps bar by bar, so a long outage with 1s bars costs nothing.
  [[nodiscard]] std::int64_t first_unended(std::int64_t from_open_ms,
                                           std::int64_t now_ms) const noexcept;

  [[nodiscard]] bool monthly() const noexcept { return monthly_; }
  [[nodiscard]] std::int64_t nominal_ms() const noexcept { return ms_; }

 private:
  std::int64_t ms_ = 0;     // fixed length (nominal 31 days for 1M, unused there)
  std::int64_t phase_ = 0;  // alignment offset from the epoch for fixed intervals
  bool monthly_ = false;
};

}  // namespace mdfeed
