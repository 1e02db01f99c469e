// Health rules: one function per verdict, evaluated most severe first.
#include "status/health.hpp"

#include <signal.h>

#include <cerrno>
#include <climits>
#include <cstdio>

namespace mdfeed::status {
namespace {

std::int64_t ns_to_ms(std::uint64_t ns) noexcept { return static_cast<std::int64_t>(ns / 1'000'000); }

std::int64_t age_ms(std::uint64_t now_ns, std::uint64_t then_ns) noexcept {
  return now_ns > then_ns ? ns_to_ms(now_ns - then_ns) : 0;
}

std::string seconds_text(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  return buf;
}

void check_daemon(const Snapshot& s, std::uint64_t now_ns, bool alive, const HealthPolicy& p,
                  HealthReport& r) {
  const DaemonInfo& d = s.daemon;
  r.heartbeat_age_ms = d.heartbeat_ns == 0 ? -1 : age_ms(now_ns, d.heartbeat_ns);
  r.uptime_ms = d.start_mono_ns == 0 ? 0 : age_ms(now_ns, d.start_mono_ns);
  if (d.segment_state == SegmentState::kStopped)
    r.reasons.push_back("daemon stopped (pid " + std::to_string(d.pid) + " exited cleanly)");
  else if (!alive)
    r.reasons.push_back("daemon pid " + std::to_string(d.pid) + " is gone (crashed or killed)");
  else if (r.heartbeat_age_ms < 0 || r.heartbeat_age_ms > p.heartbeat_timeout.count())
    r.reasons.push_back("daemon heartbeat is " +
                        (r.heartbeat_age_ms < 0 ? std::string("missing")
                                                : seconds_text(r.heartbeat_age_ms) + " old") +
                        " (limit " + seconds_text(p.heartbeat_timeout.count()) + "; hung?)");
  if (!r.reasons.empty()) r.health = Health::kDown;
}

void check_streams(const Snapshot& s, std::uint64_t now_ns, const HealthPolicy& p,
                   HealthReport& r) {
  r.streams.reserve(s.streams.size());
  for (const StreamInfo& st : s.streams) {
    StreamHealth h;
    h.age_ms = stream_age_ms(s, st, now_ns);
    if (st.state != StreamState::kRetired) {
      if (st.state == StreamState::kFailed) {
        h.stale = true;
        r.reasons.push_back("stream " + stream_label(st) + " failed" +
                            (st.failure.empty() ? "" : ": " + st.failure));
      } else if (h.age_ms > p.stale_after.count()) {
        h.stale = true;
        r.reasons.push_back("stream " + stream_label(st) + " stale: no update for " +
                            seconds_text(h.age_ms) + " (limit " +
                            seconds_text(p.stale_after.count()) + ")");
      }
    }
    r.streams.push_back(h);
  }
}

void check_connections(const Snapshot& s, HealthReport& r) {
  r.connection_ok.reserve(s.connections.size());
  for (const ConnectionInfo& c : s.connections) {
    // Closed is deliberate (the old half of a make-before-break rotation, or shutdown).
    const bool ok = c.state == ConnState::kConnected || c.state == ConnState::kClosed;
    if (!ok)
      r.reasons.push_back("connection " + c.feed + "#" + std::to_string(c.id) + " " +
                          to_string(c.state) + (c.last_error.empty() ? "" : ": " + c.last_error));
    r.connection_ok.push_back(ok);
  }
}

}  // namespace

const char* to_string(Health h) noexcept {
  switch (h) {
    case Health::kHealthy: return "healthy";
    case Health::kDegraded: return "degraded";
    case Health::kDown: return "down";
  }
  return "unknown";
}

HealthReport evaluate(const Snapshot& s, std::uint64_t now_ns, bool alive, const HealthPolicy& p) {
  HealthReport r;
  check_daemon(s, now_ns, alive, p, r);
  const bool down = r.health == Health::kDown;
  check_streams(s, now_ns, p, r);
  check_connections(s, r);
  // A dead daemon's streams are stale too, but "down" is the verdict that matters.
  if (!down && !r.reasons.empty()) r.health = Health::kDegraded;
  return r;
}

std::int64_t stream_age_ms(const Snapshot& s, const StreamInfo& st, std::uint64_t now_ns) noexcept {
  return age_ms(now_ns, st.last_update_ns != 0 ? st.last_update_ns : s.daemon.start_mono_ns);
}

bool pid_alive(std::uint32_t pid) noexcept {
  // 0 and values past INT_MAX would name process groups (or everyone, for -1), not a pid.
  if (pid == 0 || pid > static_cast<std::uint32_t>(INT_MAX)) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string stream_label(const StreamInfo& s) { return s.feed + ":" + s.symbol + " " + s.interval; }

}  // namespace mdfeed::status
