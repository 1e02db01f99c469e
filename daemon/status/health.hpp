// Health rules over a status Snapshot: what makes mdfeed healthy, degraded or down. Pure (the
// clock and the pid check are inputs) so mdfeed-ctl, /metrics and tests agree on one definition.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "status/status.hpp"

namespace mdfeed::status {

// Values are mdfeed-ctl's exit codes.
enum class Health : int { kHealthy = 0, kDegraded = 1, kDown = 2 };
[[nodiscard]] const char* to_string(Health h) noexcept;

struct HealthPolicy {
  // A stream with no kline update for this long is stale. Binance sends an update every 2 s
  // (1 s for 1s bars) even when nothing trades, so 10 s is five missed updates: a real stall,
  // yet shorter than the daemon's own default reconnect trigger (feeds[].stale_after_s = 10)
  // plus a reconnect, so an operator sees it while it happens.
  std::chrono::milliseconds stale_after{10'000};
  // The daemon beats at least every 500 ms; docs/design.md calls a writer dead after about 2 s.
  std::chrono::milliseconds heartbeat_timeout{2'000};
};

struct StreamHealth {
  std::int64_t age_ms = 0;  // since the last update, or since daemon start if none yet
  bool stale = false;       // age over the policy, or failed (retired streams never are)
};

struct HealthReport {
  Health health = Health::kHealthy;
  std::vector<std::string> reasons;   // why not healthy, most severe first; empty when healthy
  std::int64_t heartbeat_age_ms = -1;  // -1: never beat
  std::int64_t uptime_ms = 0;
  std::vector<StreamHealth> streams;  // parallel to Snapshot::streams
  std::vector<bool> connection_ok;    // parallel to Snapshot::connections
};

// Down: stopped, pid gone, or heartbeat older than the policy. Degraded: a stream stale or
// failed, or a connection neither connected nor deliberately closed. now_ns is CLOCK_MONOTONIC.
[[nodiscard]] HealthReport evaluate(const Snapshot& s, std::uint64_t now_ns, bool pid_alive,
                                    const HealthPolicy& policy = {});

// Age of a stream's data: since its last update, or since daemon start if it never updated
// (so a stream still starting up is judged from start, not from boot).
[[nodiscard]] std::int64_t stream_age_ms(const Snapshot& s, const StreamInfo& st,
                                         std::uint64_t now_ns) noexcept;

// True if a process with this pid exists (kill(pid, 0); EPERM counts as existing).
[[nodiscard]] bool pid_alive(std::uint32_t pid) noexcept;

// "binance:BTCUSDT 1m", the name a stream goes by in messages.
[[nodiscard]] std::string stream_label(const StreamInfo& s);

}  // namespace mdfeed::status
