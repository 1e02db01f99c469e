// The exchange's clock as seen from this host: the latest exchange timestamp observed (a WS
// event time E, or REST serverTime), advanced by local monotonic time elapsed since. Lateness
// of bars is judged on this, never on the wall clock (docs/design.md, "Bar time is exchange
// time").
#pragma once

#include <cstdint>
#include <optional>

namespace mdfeed {

class ExchangeClock {
 public:
  // exchange_ms: an exchange timestamp; mono_ms: local CLOCK_MONOTONIC (ms) when it was
  // received. Pair a REST serverTime with the mono time the response arrived: the estimate
  // then errs late, which is the safe side (a bar is never judged closed too early).
  void observe(std::int64_t exchange_ms, std::int64_t mono_ms) noexcept;

  // Estimated exchange time at mono_ms; nullopt before the first observation. Each observation
  // defines an offset (exchange - mono); we keep the largest, i.e. the freshest-looking one,
  // because network delay only ever makes an estimate lag. So with a monotonic mono_ms the
  // result never goes backwards. A single absurd timestamp would pin the clock ahead: the
  // exchange is trusted for its own time.
  [[nodiscard]] std::optional<std::int64_t> now(std::int64_t mono_ms) const noexcept;

  [[nodiscard]] bool known() const noexcept { return offset_ms_.has_value(); }

 private:
  std::optional<std::int64_t> offset_ms_;
};

}  // namespace mdfeed
