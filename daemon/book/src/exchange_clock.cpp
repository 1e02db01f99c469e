// Exchange clock: monotonic-time extrapolation of the latest exchange timestamp.
#include "mdfeed/book/exchange_clock.hpp"

namespace mdfeed {

void ExchangeClock::observe(std::int64_t exchange_ms, std::int64_t mono_ms) noexcept {
  const std::int64_t offset = exchange_ms - mono_ms;
  if (!offset_ms_ || offset > *offset_ms_) offset_ms_ = offset;
}

std::optional<std::int64_t> ExchangeClock::now(std::int64_t mono_ms) const noexcept {
  if (!offset_ms_) return std::nullopt;
  return mono_ms + *offset_ms_;
}

}  // namespace mdfeed
