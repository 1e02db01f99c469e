// Logging: spdlog, asynchronous, dropping the oldest entries rather than blocking the service
// thread. Nothing is logged per message; warnings on hot paths go through RateLimiter.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace mdfeed::log {

// Installs the async stderr logger as the default. Safe to call again (level change only).
void init(std::string_view level);
void set_level(std::string_view level);
void shutdown();

// Allows one event per period; counts the ones it suppressed so the next line can say so.
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds period = std::chrono::seconds(10)) : period_(period) {}
  // True if the caller should log now; `suppressed` is how many were skipped since the last one.
  bool allow(std::int64_t now_ms, std::uint64_t& suppressed) noexcept {
    if (last_ms_ >= 0 && now_ms - last_ms_ < period_.count()) {
      ++skipped_;
      return false;
    }
    suppressed = skipped_;
    skipped_ = 0;
    last_ms_ = now_ms;
    return true;
  }

 private:
  std::chrono::milliseconds period_;
  std::int64_t last_ms_ = -1;
  std::uint64_t skipped_ = 0;
};

}  // namespace mdfeed::log
