// The scenario x venue matrix. For every venue (Binance spot and USD-M, OKX spot and swap, Bybit
// spot and linear) the real daemon runs against the one shared fake exchange through every
// fault: steady, garbage, missing close, drop, stall, heartbeat unanswered, rate limit,
// rotation, SIGKILL restart, and a wrong CA. After each cell every ring equals ground truth:
// each closed bar exact (unknown fields unknown, never zero), contiguous, no duplicate.
// The fake runs at 60x (a 1m bar per real second) so each cell takes a few seconds.
#include <catch2/catch.hpp>

#include <cstdio>

#include "harness.hpp"
#include "status/status.hpp"

using namespace mdfeed;
using namespace mdfeed::it;
using namespace std::chrono_literals;

namespace {

// Bounds for a loaded 2-core machine (and sanitizers); conditions are what the cells assert.
constexpr std::chrono::seconds kVenueStartup{60}, kVenueCatchUp{60};

struct VenueCase {
  const char* exchange;
  std::vector<std::string> symbols;
  bool app_heartbeat;  // the client pings (OKX, Bybit); else the server pings (Binance)
};

const VenueCase& venue_case(const std::string& name) {
  static const std::vector<VenueCase> cases = {
      {"binance", {"BTCUSDT", "ETHUSDT"}, false},
      {"binance-usdm", {"BTCUSDT"}, false},
      {"okx", {"BTC-USDT", "ETH-USDT-SWAP"}, true},
      {"bybit-spot", {"BTCUSDT"}, true},
      {"bybit-linear", {"ETHUSDT"}, true},
  };
  for (const auto& c : cases)
    if (name == c.exchange) return c;
  throw std::runtime_error("no venue case " + name);
}

// One fake for the whole matrix: cells run one after another, so its global faults hit only
// the daemon of the cell that asked for them.
struct SharedFake {
  test::TempDir dir{"mdfeed-venues"};
  FakeExchange fx{dir, FakeOptions{60, "server", {"--okx-idle-s", "30", "--bybit-idle-s", "60"}}};
  std::size_t acks = 0;
  // command() waits for "ok CMD", which an earlier identical command already printed.
  void command(const std::string& cmd) {
    const std::size_t before = fx.child().count("ok " + cmd);
    fx.child().send_line(cmd);
    if (!wait_until([&] { return fx.child().count("ok " + cmd) > before; }, 10s))
      throw std::runtime_error("fake exchange did not acknowledge: " + cmd);
  }
};

SharedFake& shared() {
  static SharedFake s;
  return s;
}

DaemonConfig config_for(const VenueCase& v) {
  DaemonConfig c;
  c.feed = v.exchange;
  c.exchange = v.exchange;
  c.symbols = v.symbols;
  c.intervals = {"1m"};
  c.backfill_bars = 20;
  // Short heartbeat and rotation so those cells fit in seconds; the venue keeps its rules.
  c.feed_extra = "    heartbeat_s: 0.5\n    heartbeat_timeout_s: 1\n    rotate_after_s: 4\n"
                 "    ping_interval_s: 1\n    pong_timeout_s: 2\n";
  return c;
}

bool backfilled(const Daemon& d) {
  for (const auto& s : d.cfg().symbols) {
    try {
      Ring r = Ring::open(d.cfg().feed, s, "1m", d.shm());
      if (r.closed_count() < d.cfg().backfill_bars) return false;
    } catch (const Error&) {
      return false;
    }
  }
  return true;
}

// The cell's verdict: every ring caught up with the fake's clock and equal to truth.
void require_exact(const Daemon& d, FakeExchange& fx, const std::string& cell) {
  INFO(d.cfg().exchange << " / " << cell << "\n" << d.log().substr(d.log().size() > 4000 ? d.log().size() - 4000 : 0));
  REQUIRE(caught_up(d, fx, kVenueCatchUp));
  std::size_t bars = 0;
  for (const auto& s : d.cfg().symbols) {
    const RingCheck rc = check_ring(d.shm(), s, "1m", d.cfg().feed);
    INFO(s << ": " << rc.bars << " bars, " << rc.first_problem);
    CHECK(rc.mismatches == 0);
    CHECK(rc.gaps == 0);
    CHECK(rc.bars >= d.cfg().backfill_bars);
    bars += rc.bars;
  }
  std::printf("cell %-13s %-20s exact: %zu bars\n", d.cfg().exchange.c_str(), cell.c_str(), bars);
  std::fflush(stdout);
}

std::size_t log_count(const Daemon& d, const std::string& needle) {
  const std::string log = d.log();
  std::size_t n = 0;
  for (auto p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("every scenario on every venue ends exact", "[venues]") {
  const std::string venue =
      GENERATE(as<std::string>{}, "binance", "binance-usdm", "okx", "bybit-spot", "bybit-linear");
  const VenueCase& v = venue_case(venue);
  SharedFake& sf = shared();
  FakeExchange& fx = sf.fx;
  test::TempDir dir("mdfeed-venue");
  Daemon d(dir, fx.port(), config_for(v));
  d.start();
  {
    INFO(d.log());
    REQUIRE(wait_until([&] { return backfilled(d); }, kVenueStartup));
  }
  require_exact(d, fx, "steady");

  sf.command("garbage 5");
  require_exact(d, fx, "garbage");

  sf.command("skip-close " + v.symbols[0] + " 1m 2");
  require_exact(d, fx, "missing close");
  {
    // The closes never came over the stream: they were fetched over REST after the grace.
    const Ring r = Ring::open(d.cfg().feed, v.symbols[0], "1m", d.shm());
    CHECK(r.closed_count() > 0);
  }

  sf.command("drop");
  require_exact(d, fx, "drop");

  sf.command("stall 4");
  require_exact(d, fx, "stall");

  const std::size_t hb_before = log_count(d, "heartbeat unanswered") + log_count(d, "keepalive: nothing received");
  if (v.app_heartbeat) {
    // Pongs withheld and no data: the daemon's ping goes unanswered and it reconnects.
    sf.command("ignore-pings 4");
    sf.command("stall 3");
    CHECK(wait_until([&] { return log_count(d, "heartbeat unanswered") > 0; }, 20s));
  } else {
    // A deaf server answers no WebSocket ping: the keepalive hangs up.
    sf.command("deaf 4");
    CHECK(wait_until([&] { return log_count(d, "heartbeat unanswered") + log_count(d, "keepalive: nothing received") > hb_before; }, 20s));
  }
  require_exact(d, fx, "heartbeat unanswered");

  sf.command("rest-429 2 1");
  sf.command("drop");
  require_exact(d, fx, "rate limit");

  // rotate_after_s 4: at least one make-before-break replacement has happened by now.
  CHECK(wait_until([&] { return log_count(d, "replacement connection live") > 0; }, 20s));
  require_exact(d, fx, "rotation");

  d.kill9();
  std::this_thread::sleep_for(2s);  // bars close while no daemon runs: a real gap to fill
  d.start();
  require_exact(d, fx, "SIGKILL restart");
  CHECK(d.stop() == 0);
}

TEST_CASE("a wrong CA is refused on every venue, visibly in status", "[venues][tls]") {
  const std::string venue =
      GENERATE(as<std::string>{}, "binance", "binance-usdm", "okx", "bybit-spot", "bybit-linear");
  const VenueCase& v = venue_case(venue);
  FakeExchange& fx = shared().fx;
  test::TempDir dir("mdfeed-venue");
  DaemonConfig c = config_for(v);
  c.ca = "wrong-ca.pem";
  Daemon d(dir, fx.port(), c);
  d.start();
  const std::string want = "TLS certificate refused: unable to get local issuer certificate";
  INFO(venue << "\n" << d.log());
  REQUIRE(wait_until([&] { return d.log().find(want) != std::string::npos; }, 30s));
  REQUIRE(wait_until([&] {
    try {
      auto snap = status::StatusReader::open(d.shm()).read();
      return snap && !snap->connections.empty() &&
             snap->connections[0].last_error.find("unable to get local issuer") != std::string::npos;
    } catch (const Error&) {
      return false;
    }
  }, 10s));
  CHECK(Ring::open(v.exchange, v.symbols[0], "1m", d.shm()).closed_count() == 0);
  CHECK(d.running());
  std::printf("cell %-13s %-20s refused, in status\n", venue.c_str(), "wrong CA");
}
