// Interval arithmetic for the bar book. Calendar conversion is Howard Hinnant's
// days_from_civil / civil_from_days: exact for any proleptic Gregorian date, negative included.
#include "mdfeed/book/bar_grid.hpp"

#include <stdexcept>
#include <string>

#include "mdfeed/names.hpp"

namespace mdfeed {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
// 1970-01-01 was a Thursday; Binance weeks open on Monday, 1970-01-05.
constexpr std::int64_t kWeekPhaseMs = 4 * kDayMs;

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept {
  return a - floor_div(a, b) * b;
}

constexpr std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Months since year 0 (year * 12 + month - 1) of the UTC day `days` since the epoch.
constexpr std::int64_t month_index_of_day(std::int64_t days) noexcept {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 12 + m - 1;
}

constexpr std::int64_t month_index_of(std::int64_t t_ms) noexcept {
  return month_index_of_day(floor_div(t_ms, kDayMs));
}

constexpr std::int64_t month_start_ms(std::int64_t month_index) noexcept {
  return days_from_civil(floor_div(month_index, 12), floor_mod(month_index, 12) + 1, 1) * kDayMs;
}

static_assert(month_start_ms(1970 * 12) == 0);
static_assert(month_start_ms(2030 * 12) == 1'893'456'000'000);  // 2030-01-01
static_assert(month_index_of(1'893'455'999'999) == 2029 * 12 + 11);
static_assert(month_start_ms(1969 * 12 + 11) == -31 * kDayMs);

}  // namespace

BarGrid::BarGrid(std::string_view interval) {
  const auto ms = interval_ms(interval);
  if (!ms) throw std::invalid_argument("unknown interval '" + std::string(interval) + "'");
  ms_ = *ms;
  monthly_ = interval == "1M";
  phase_ = interval == "1w" ? kWeekPhaseMs : 0;
}

std::int64_t BarGrid::next(std::int64_t open_ms) const noexcept {
  return monthly_ ? month_start_ms(month_index_of(open_ms) + 1) : open_ms + ms_;
}

std::int64_t BarGrid::prev(std::int64_t open_ms) const noexcept { return advance(open_ms, -1); }

std::int64_t BarGrid::advance(std::int64_t open_ms, std::int64_t bars) const noexcept {
  return monthly_ ? month_start_ms(month_index_of(open_ms) + bars) : open_ms + bars * ms_;
}

std::int64_t BarGrid::open_containing(std::int64_t t_ms) const noexcept {
  if (monthly_) return month_start_ms(month_index_of(t_ms));
  return t_ms - floor_mod(t_ms - phase_, ms_);
}

std::int64_t BarGrid::first_unended(std::int64_t from_open_ms, std::int64_t now_ms) const noexcept {
  if (close_time(from_open_ms) >= now_ms) return from_open_ms;
  // Fixed intervals step from the caller's (real) open time, not from our alignment guess.
  if (!monthly_) return from_open_ms + ((now_ms - from_open_ms) / ms_) * ms_;
  const std::int64_t containing = open_containing(now_ms);
  return containing > from_open_ms ? containing : from_open_ms;
}

}  // namespace mdfeed
