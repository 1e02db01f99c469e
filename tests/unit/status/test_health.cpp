// Health rules: each verdict and its reason, on hand-built snapshots with an injected clock.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "status/health.hpp"

using namespace mdfeed::status;

namespace {

constexpr std::uint64_t kSec = 1'000'000'000ULL;
constexpr std::uint64_t kNow = 1000 * kSec;  // CLOCK_MONOTONIC "now" for every case

Snapshot healthy() {
  Snapshot s;
  s.daemon.pid = 42;
  s.daemon.start_mono_ns = kNow - 600 * kSec;
  s.daemon.heartbeat_ns = kNow - kSec / 10;
  s.daemon.segment_state = SegmentState::kLive;
  ConnectionInfo c;
  c.feed = "binance";
  c.state = ConnState::kConnected;
  s.connections = {c};
  for (const char* sym : {"BTCUSDT", "ETHUSDT"}) {
    StreamInfo st;
    st.feed = "binance";
    st.symbol = sym;
    st.interval = "1m";
    st.state = StreamState::kLive;
    st.last_update_ns = kNow - 2 * kSec;
    s.streams.push_back(st);
  }
  return s;
}

bool mentions(const HealthReport& r, const std::string& text) {
  for (const auto& reason : r.reasons)
    if (reason.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("healthy: fresh heartbeat, streams updating, connections up") {
  const HealthReport r = evaluate(healthy(), kNow, true);
  CHECK(r.health == Health::kHealthy);
  CHECK(r.reasons.empty());
  CHECK(r.heartbeat_age_ms == 100);
  CHECK(r.uptime_ms == 600'000);
  REQUIRE(r.streams.size() == 2);
  CHECK(r.streams[0].age_ms == 2000);
  CHECK_FALSE(r.streams[0].stale);
  CHECK(r.connection_ok == std::vector<bool>{true});
}

TEST_CASE("degraded: a stale stream, at the policy's limit") {
  Snapshot s = healthy();
  s.streams[1].last_update_ns = kNow - 11 * kSec;
  HealthReport r = evaluate(s, kNow, true);
  CHECK(r.health == Health::kDegraded);
  CHECK(r.streams[1].stale);
  CHECK_FALSE(r.streams[0].stale);
  CHECK(mentions(r, "binance:ETHUSDT 1m stale: no update for 11.0s"));
  HealthPolicy lenient;
  lenient.stale_after = std::chrono::seconds(12);
  CHECK(evaluate(s, kNow, true, lenient).health == Health::kHealthy);
}

TEST_CASE("degraded: a failed stream, with its reason") {
  Snapshot s = healthy();
  s.streams[0].state = StreamState::kFailed;
  s.streams[0].failure = "REST 418: IP banned";
  const HealthReport r = evaluate(s, kNow, true);
  CHECK(r.health == Health::kDegraded);
  CHECK(r.streams[0].stale);
  CHECK(mentions(r, "failed: REST 418: IP banned"));
}

TEST_CASE("retired streams are never stale") {
  Snapshot s = healthy();
  s.streams[0].state = StreamState::kRetired;
  s.streams[0].last_update_ns = 1;
  const HealthReport r = evaluate(s, kNow, true);
  CHECK(r.health == Health::kHealthy);
  CHECK_FALSE(r.streams[0].stale);
}

TEST_CASE("a stream that never updated is judged from daemon start") {
  Snapshot s = healthy();
  s.streams[0].last_update_ns = 0;
  s.streams[0].state = StreamState::kBackfilling;
  s.daemon.start_mono_ns = kNow - 5 * kSec;
  CHECK(evaluate(s, kNow, true).health == Health::kHealthy);
  CHECK(stream_age_ms(s, s.streams[0], kNow) == 5000);
  s.daemon.start_mono_ns = kNow - 20 * kSec;
  CHECK(evaluate(s, kNow, true).health == Health::kDegraded);
}

TEST_CASE("connections: backoff and failed degrade, closed does not") {
  Snapshot s = healthy();
  s.connections.push_back(s.connections[0]);
  s.connections[1].id = 1;
  s.connections[1].state = ConnState::kClosed;
  CHECK(evaluate(s, kNow, true).health == Health::kHealthy);
  s.connections[1].state = ConnState::kBackoff;
  s.connections[1].last_error = "TLS: certificate verify failed";
  const HealthReport r = evaluate(s, kNow, true);
  CHECK(r.health == Health::kDegraded);
  CHECK(r.connection_ok == std::vector<bool>{true, false});
  CHECK(mentions(r, "connection binance#1 backoff: TLS: certificate verify failed"));
}

TEST_CASE("down: stopped, pid gone, or heartbeat too old; it outranks degraded") {
  Snapshot s = healthy();
  s.streams[0].state = StreamState::kFailed;  // would be degraded on its own
  SECTION("stopped") {
    s.daemon.segment_state = SegmentState::kStopped;
    const HealthReport r = evaluate(s, kNow, true);
    CHECK(r.health == Health::kDown);
    CHECK(r.reasons.front().find("stopped") != std::string::npos);
  }
  SECTION("pid gone") {
    const HealthReport r = evaluate(s, kNow, false);
    CHECK(r.health == Health::kDown);
    CHECK(r.reasons.front() == "daemon pid 42 is gone (crashed or killed)");
  }
  SECTION("heartbeat old") {
    s.daemon.heartbeat_ns = kNow - 3 * kSec;
    const HealthReport r = evaluate(s, kNow, true);
    CHECK(r.health == Health::kDown);
    CHECK(r.reasons.front().find("heartbeat is 3.0s old") != std::string::npos);
  }
  SECTION("never beat") {
    s.daemon.heartbeat_ns = 0;
    CHECK(evaluate(s, kNow, true).health == Health::kDown);
  }
}

TEST_CASE("pid_alive") {
  CHECK(pid_alive(static_cast<std::uint32_t>(::getpid())));
  CHECK_FALSE(pid_alive(0));
  CHECK_FALSE(pid_alive(0xFFFFFFFFU));  // would be kill(-1, 0): "every process"
}
