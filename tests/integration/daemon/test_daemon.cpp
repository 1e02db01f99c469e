// The daemon against the fake exchange, one scenario per failure mode. Every scenario ends with
// every ring equal to ground truth: each closed bar bit-exact, contiguous, no duplicate.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <optional>

#include "harness.hpp"
#include "mdfeed/watcher.hpp"
#include "status/status.hpp"

using namespace mdfeed;
using namespace mdfeed::it;
using namespace std::chrono_literals;

namespace {

// Generous bounds for a loaded 2-core machine (and sanitizers): conditions are what we assert.
const auto kStartup = std::chrono::seconds(60);
const auto kCatchUp = std::chrono::seconds(60);

// min_1m_bars applies to 1m rings (a 1m bar closes every real second at 60x); slower
// intervals must at least hold their backfill.
void require_truth(const Daemon& d, std::size_t min_1m_bars) {
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      const RingCheck rc = check_ring(d.shm(), s, i);
      INFO(s << " " << i << ": " << rc.bars << " bars, " << rc.first_problem);
      CHECK(rc.mismatches == 0);
      CHECK(rc.gaps == 0);
      CHECK(rc.bars >= (i == "1m" ? min_1m_bars : d.cfg().backfill_bars));
    }
}

bool backfilled(const Daemon& d) {
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      try {
        Ring r = Ring::open("binance", s, i, d.shm());
        if (r.closed_count() < d.cfg().backfill_bars) return false;
      } catch (const Error&) {
        return false;
      }
    }
  return true;
}

void start_and_backfill(Daemon& d) {
  d.start();
  INFO(d.log());
  REQUIRE(wait_until([&] { return backfilled(d); }, kStartup));
}

}  // namespace

TEST_CASE("steady state: backfill then live bars equal ground truth", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  // Live bars keep closing after the backfill.
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
  // A forming bar is published and readers are told the writer is alive.
  Ring r = Ring::open("binance", "BTCUSDT", "1m", d.shm());
  CHECK(r.writer_alive());
  CHECK(wait_until([&] { return r.forming().has_value(); }, 10s));
  // One wait over every ring is woken by the daemon's doorbell (the safety re-check is pushed
  // out of reach, so nothing else can end it early) and names rings that really moved.
  std::vector<Ring> all;
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) all.push_back(Ring::open("binance", s, i, d.shm()));
  std::vector<std::uint32_t> before;
  for (const Ring& x : all) before.push_back(x.update_count());
  Watcher::Options wo;
  wo.recheck_interval = std::chrono::hours(1);
  Watcher watcher(all, wo);
  REQUIRE(watcher.has_doorbell());
  const auto moved = watcher.wait(20s);
  REQUIRE_FALSE(moved.empty());
  for (std::size_t k : moved) CHECK(all[k].update_count() != before[k]);
  // A bad exit (e.g. 66: a sanitizer report at exit) shows the daemon's own log, report included.
  const int rc = d.stop();
  INFO(d.log());
  CHECK(rc == 0);
  CHECK(r.writer_state() == WriterState::kStopped);
  const std::string log = d.log();
  CHECK(log.find("mdfeed running") != std::string::npos);
  CHECK(log.find("stopped:") != std::string::npos);
}

TEST_CASE("drop mid-bar with bars missed while down: the gap is filled from REST", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  REQUIRE(caught_up(d, fx, kCatchUp));
  const auto before = check_ring(d.shm(), "BTCUSDT", "1m").last_open_ms;
  // 8 real seconds at 60x: 8 one-minute bars pass while no connection can be made.
  fx.command("outage 8");
  fx.command("drop");
  REQUIRE(caught_up(d, fx, kCatchUp));
  const auto after = check_ring(d.shm(), "BTCUSDT", "1m");
  CHECK(after.last_open_ms - before >= 5 * 60'000);
  require_truth(d, d.cfg().backfill_bars + 5);
  CHECK(d.log().find("connection lost") != std::string::npos);
}

TEST_CASE("a stalled connection (pings answered, no data) is replaced", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  const auto opens = fx.child().count("conn open");
  fx.command("stall 8");  // stale_after_s is 3
  REQUIRE(wait_until([&] { return d.log().find("no kline data") != std::string::npos; }, 30s));
  REQUIRE(wait_until([&] { return fx.child().count("conn open") > opens; }, 30s));
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
}

TEST_CASE("unanswered pings: the WebSocket keepalive hangs up and the session reconnects", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  DaemonConfig c;
  // Data staleness far away, so only the pong deadline can catch the dead peer.
  c.feed_extra = "    ping_interval_s: 1\n    pong_timeout_s: 2\n";
  Daemon d(dir, fx.port(), c);
  // stale_after_s is fixed at 3 in the harness; raise it for this test.
  {
    std::string y = slurp(d.config_path());
    y.replace(y.find("stale_after_s: 3"), 16, "stale_after_s: 60");
    std::ofstream(d.config_path()) << y;
  }
  start_and_backfill(d);
  const auto opens = fx.child().count("conn open");
  fx.command("deaf 6");
  REQUIRE(wait_until([&] { return fx.child().count("conn open") > opens; }, 40s));
  CHECK(d.log().find("keepalive: nothing received") != std::string::npos);
  CHECK(d.log().find("no kline data") == std::string::npos);  // keepalive, not staleness
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
}

#ifdef MDFEED_FLOOD_SENDER_BIN
// The daemon reads TLS with read-ahead: one read() takes every record the socket holds, and the
// records it has not decrypted yet sit in OpenSSL, where neither lws (it asks SSL_pending) nor
// poll() sees them. A burst of records that arrives at once, followed by silence, must still
// reach the ring whole, without waiting for the server's next bytes. The keepalive is pushed out
// of reach (30 s), so nothing else can bring more bytes within the wait.
TEST_CASE("a burst of records then silence: every record reaches the ring at once", "[daemon][tls]") {
  test::TempDir dir("mdfeed-it");
  const std::string c = certs_dir();
  constexpr int kFrames = 400;  // ~150 KB: many read-ahead buffers, each past the 16-record bound
  Child sender({MDFEED_FLOOD_SENDER_BIN, "--cert", c + "/server.pem", "--key", c + "/server.key",
                "--frames", std::to_string(kFrames), "--seconds", "120"},
               dir.path() + "/sender.log", true);
  int port = 0;
  REQUIRE(wait_until([&] {
    for (const auto& l : sender.lines())
      if (l.rfind("ready port=", 0) == 0) port = std::atoi(l.c_str() + 11);
    return port > 0;
  }, 20s));
  DaemonConfig dc;
  dc.symbols = {"BTCUSDT"};
  dc.intervals = {"1h"};
  dc.backfill_bars = 0;
  dc.feed_extra = "    ping_interval_s: 30\n    pong_timeout_s: 31\n";
  Daemon d(dir, port, dc);
  {  // no staleness verdict during the silence either
    std::string y = slurp(d.config_path());
    y.replace(y.find("stale_after_s: 3"), 16, "stale_after_s: 600");
    std::ofstream(d.config_path()) << y;
  }
  d.start();
  INFO(d.log());
  REQUIRE(wait_until([&] { return sender.saw("burst sent frames="); }, 30s));
  std::optional<Ring> r;
  REQUIRE(wait_until([&] {
    try {
      r.emplace(Ring::open("binance", "BTCUSDT", "1h", d.shm()));
      return true;
    } catch (const Error&) {
      return false;
    }
  }, 20s));
  // The sender numbers its frames in the trade count (n = 10^11 + k): the forming bar carries
  // the last one, well before the keepalive could bring more bytes. One publish per update.
  constexpr std::uint64_t kLastTrades = 100'000'000'000ULL + kFrames;
  CHECK(wait_until([&] {
    const auto f = r->forming();
    return f.has_value() && f->trades == kLastTrades;
  }, 10s));
  CHECK(r->update_count() >= static_cast<std::uint32_t>(kFrames));
  CHECK(sender.count("burst sent frames=") == 1);  // one connection: no reconnect filled the gap
  CHECK(d.log().find("reading without read-ahead") == std::string::npos);  // the drain was in play
  CHECK(d.stop() == 0);
}
#endif

TEST_CASE("garbage, truncated and oversized frames are dropped; nothing is corrupted", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  fx.command("garbage 50");
  fx.command("fragment on");
  REQUIRE(wait_until([&] { return d.log().find("dropped bad message") != std::string::npos; }, 20s));
  fx.command("oversize 2000000");  // > max_message_bytes (1 MiB): closed with 1009, reconnect
  INFO(d.log());
  REQUIRE(wait_until([&] { return d.log().find("message too big") != std::string::npos; }, 20s));
  // (The 1009 close frame itself is not checked here: the fake's lws server reads nothing while
  // its own oversized message is still queued, so it never sees it; unit_wire covers the frame.)
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
  CHECK(d.running());
}

TEST_CASE("a missing close (x:true never sent) is fetched over REST after the grace", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  fx.command("skip-close BTCUSDT 1m 3");
  REQUIRE(caught_up(d, fx, kCatchUp));
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 3);
}

TEST_CASE("429 with Retry-After during backfill is honoured and the backfill completes", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.args = {"--fault", "rest-429 3 2"};
  FakeExchange fx(dir, fo);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
  CHECK(d.log().find("rate limited") != std::string::npos);
}

TEST_CASE("make-before-break rotation and the venue's age cut lose and duplicate nothing", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.args = {"--fault", "max-conn-age 7"};
  FakeExchange fx(dir, fo);
  DaemonConfig c;
  c.feed_extra = "    rotate_after_s: 3\n";  // the 24 h cut, shortened
  Daemon d(dir, fx.port(), c);
  start_and_backfill(d);
  REQUIRE(wait_until([&] {
    const std::string log = d.log();
    std::size_t n = 0;
    for (auto p = log.find("replacement connection live"); p != std::string::npos;
         p = log.find("replacement connection live", p + 1))
      ++n;
    return n >= 2;
  }, 60s));
  // The replaced connections said goodbye with a normal close (1000), not a dropped socket.
  CHECK(wait_until([&] { return fx.child().count(" code=1000") >= 2; }, 10s));
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
}

TEST_CASE("serverShutdown makes the session reconnect at once", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  fx.command("shutdown-event");
  REQUIRE(wait_until([&] { return d.log().find("serverShutdown") != std::string::npos; }, 20s));
  REQUIRE(wait_until([&] { return d.log().find("replacement connection live") != std::string::npos; }, 20s));
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 1);
}

TEST_CASE("many streams: sharded connections, paced SUBSCRIBE, venue limits respected", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.speed = 20;
  FakeExchange fx(dir, fo);
  DaemonConfig c;
  c.symbols.clear();
  for (int i = 0; i < 150; ++i) c.symbols.push_back("SYM" + std::to_string(i) + "USDT");
  c.intervals = {"1m"};
  c.backfill_bars = 5;
  c.feed_extra = "    max_streams_per_conn: 100\n";  // 2 connections; ~20 streams via SUBSCRIBE
  Daemon d(dir, fx.port(), c);
  start_and_backfill(d);
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, c.backfill_bars + 1);
  // The fake closes any connection that sends more than 5 control messages a second.
  CHECK_FALSE(fx.child().saw("ctrl-rate-exceeded"));
  CHECK(fx.child().count("conn open") == 2);
}

TEST_CASE("an invalid symbol fails alone; the other streams are unaffected", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.args = {"--invalid-symbols", "NOPEUSDT"};
  FakeExchange fx(dir, fo);
  DaemonConfig c;
  c.symbols = {"BTCUSDT", "NOPEUSDT"};
  c.intervals = {"1m"};
  Daemon d(dir, fx.port(), c);
  d.start();
  REQUIRE(wait_until([&] { return d.log().find("NOPEUSDT:1m failed") != std::string::npos; }, kStartup));
  REQUIRE(wait_until([&] { return check_ring(d.shm(), "BTCUSDT", "1m").bars > c.backfill_bars; }, kCatchUp));
  const RingCheck ok = check_ring(d.shm(), "BTCUSDT", "1m");
  CHECK(ok.mismatches == 0);
  CHECK(ok.gaps == 0);
  CHECK(Ring::open("binance", "NOPEUSDT", "1m", d.shm()).closed_count() == 0);
}

TEST_CASE("TLS: a server from the wrong CA, for the wrong host or expired is refused", "[daemon][tls]") {
  struct Case {
    const char* cert;
    const char* reason;
  };
  const Case c = GENERATE(Case{"wrongca-server", "unable to get local issuer certificate"},
                          Case{"wronghost-server", "hostname mismatch"},
                          Case{"expired-server", "certificate has expired"});
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.cert = c.cert;
  FakeExchange fx(dir, fo);
  Daemon d(dir, fx.port(), DaemonConfig{});
  d.start();
  const std::string want = std::string("TLS certificate refused: ") + c.reason;
  INFO(c.cert);
  REQUIRE(wait_until([&] { return d.log().find(want) != std::string::npos; }, 30s));
  // The refusal is visible in status too (what mdfeed-ctl status shows).
  REQUIRE(wait_until([&] {
    try {
      auto snap = status::StatusReader::open(d.shm()).read();
      return snap && !snap->connections.empty() &&
             snap->connections[0].last_error.find(c.reason) != std::string::npos &&
             snap->connections[0].state != status::ConnState::kConnected;
    } catch (const Error&) {
      return false;
    }
  }, 10s));
  // Nothing was accepted from it: no bars at all, and the daemon keeps trying.
  Ring r = Ring::open("binance", "BTCUSDT", "1m", d.shm());
  CHECK(r.closed_count() == 0);
  CHECK(d.running());
}

TEST_CASE("TLS: a server offering only TLS 1.0 is refused", "[daemon][tls]") {
  test::TempDir dir("mdfeed-it");
  FakeOptions fo;
  fo.args = {"--tls10-only"};
  FakeExchange fx(dir, fo);
  Daemon d(dir, fx.port(), DaemonConfig{});
  d.start();
  REQUIRE(wait_until([&] { return d.log().find("connection error") != std::string::npos; }, 30s));
  CHECK(Ring::open("binance", "BTCUSDT", "1m", d.shm()).closed_count() == 0);
}

TEST_CASE("daemon SIGKILL and restart: readers keep reading and the gap is filled", "[daemon]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  Daemon d(dir, fx.port(), DaemonConfig{});
  start_and_backfill(d);
  Ring reader = Ring::open("binance", "BTCUSDT", "1m", d.shm());
  const auto first_instance = reader.writer_instance();
  d.kill9();
  CHECK(wait_until([&] { return !reader.writer_alive(); }, 5s));  // dead writer visible
  std::this_thread::sleep_for(4s);  // 4 bars pass with no writer
  d.start();
  REQUIRE(wait_until([&] { return reader.writer_alive() && reader.writer_instance() != first_instance; }, kStartup));
  CHECK_FALSE(reader.replaced());  // the same file was reused, repaired if needed
  REQUIRE(caught_up(d, fx, kCatchUp));
  require_truth(d, d.cfg().backfill_bars + 4);
  // The reader that stayed open all along sees the complete series.
  const auto bars = reader.copy_latest(reader.capacity() - 1);
  for (std::size_t i = 1; i < bars.size(); ++i)
    CHECK(bars[i].open_time_ms == next_open_ms("1m", bars[i - 1].open_time_ms));
}

namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind notify socket");
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Every datagram received so far (non-blocking drain).
  std::vector<std::string> drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      msgs_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return msgs_;
  }
  std::size_t index_of(const std::string& prefix, std::size_t from = 0) {
    const auto m = drain();
    for (std::size_t i = from; i < m.size(); ++i)
      if (m[i].rfind(prefix, 0) == 0) return i;
    return std::string::npos;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> msgs_;
};

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)::write(fd, req.data(), req.size());
    char buf[8192];
    for (int i = 0; i < 10000; ++i) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("sd_notify: READY, STATUS, WATCHDOG, RELOADING then READY on SIGHUP, STOPPING", "[daemon][systemd]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  NotifySocket ns(dir.path() + "/notify.sock");
  Daemon d(dir, fx.port(), DaemonConfig{});
  ::setenv("NOTIFY_SOCKET", (dir.path() + "/notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "1000000", 1);
  d.start();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  REQUIRE(wait_until([&] { return ns.index_of("READY=1") != std::string::npos; }, kStartup));
  const std::size_t ready = ns.index_of("READY=1");
  // READY only after the rings exist and a connection is up.
  CHECK(Ring::open("binance", "BTCUSDT", "1m", d.shm()).writer_alive());
  CHECK(d.log().find("connected to") != std::string::npos);
  REQUIRE(wait_until([&] { return ns.index_of("WATCHDOG=1", ready) != std::string::npos; }, 10s));
  REQUIRE(wait_until([&] { return ns.index_of("STATUS=", ready) != std::string::npos; }, 15s));
  ::kill(d.pid(), SIGHUP);
  REQUIRE(wait_until([&] { return ns.index_of("RELOADING=1") != std::string::npos; }, 10s));
  const std::size_t reloading = ns.index_of("RELOADING=1");
  REQUIRE(wait_until([&] { return ns.index_of("READY=1", reloading + 1) != std::string::npos; }, 10s));
  CHECK(d.stop() == 0);
  REQUIRE(wait_until([&] { return ns.index_of("STOPPING=1") != std::string::npos; }, 5s));
  CHECK(ns.index_of("STOPPING=1") > reloading);
  CHECK(ready < reloading);
}

TEST_CASE("Prometheus /metrics is served over loopback with per-stream labels", "[daemon][metrics]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  DaemonConfig c;
  const int port = free_port();
  c.top_extra = "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  Daemon d(dir, fx.port(), c);
  start_and_backfill(d);
  std::string page;
  REQUIRE(wait_until([&] {
    page = http_get(port, "/metrics");
    return page.find("mdfeed_stream_closed_bars_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"}") !=
           std::string::npos;
  }, 20s));
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(page.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(page.find("# TYPE mdfeed_stream_age_seconds gauge") != std::string::npos);
  CHECK(page.find("mdfeed_connection_up{") != std::string::npos);
  CHECK(http_get(port, "/nope").rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("SIGHUP reload: streams added and retired, unchanged ones uninterrupted, bad config kept out", "[daemon][reload]") {
  test::TempDir dir("mdfeed-it");
  FakeExchange fx(dir);
  DaemonConfig c;
  c.symbols = {"BTCUSDT", "ETHUSDT"};
  c.intervals = {"1m"};
  Daemon d(dir, fx.port(), c);
  start_and_backfill(d);
  const std::size_t opens = fx.child().count("conn open");
  Ring btc = Ring::open("binance", "BTCUSDT", "1m", d.shm());

  // An invalid file is rejected; the running config stays.
  const std::string good = slurp(d.config_path());
  std::ofstream(d.config_path()) << good << "bogus_key: 1\n";
  ::kill(d.pid(), SIGHUP);
  REQUIRE(wait_until([&] { return d.log().find("reload rejected") != std::string::npos; }, 10s));
  CHECK(d.log().find("bogus_key") != std::string::npos);

  // Now swap ETHUSDT for SOLUSDT.
  std::string y = good;
  y.replace(y.find("[BTCUSDT, ETHUSDT]"), 18, "[BTCUSDT, SOLUSDT]");
  std::ofstream(d.config_path()) << y;
  ::kill(d.pid(), SIGHUP);
  REQUIRE(wait_until([&] { return d.log().find("reload done: 1 added, 1 removed") != std::string::npos; }, 10s));
  REQUIRE(wait_until([&] { return fx.child().saw("subscribe id=") && fx.child().saw("unsubscribe id="); }, 10s));
  CHECK(Ring::open("binance", "ETHUSDT", "1m", d.shm()).writer_state() == WriterState::kRetired);
  REQUIRE(wait_until([&] { return check_ring(d.shm(), "SOLUSDT", "1m").bars > c.backfill_bars; }, kCatchUp));
  // The unchanged stream never lost its connection.
  CHECK(fx.child().count("conn open") == opens);
  CHECK(btc.writer_alive());
  DaemonConfig after = c;
  after.symbols = {"BTCUSDT", "SOLUSDT"};
  const RingCheck rc = check_ring(d.shm(), "BTCUSDT", "1m");
  CHECK(rc.mismatches == 0);
  CHECK(rc.gaps == 0);
  const RingCheck sol = check_ring(d.shm(), "SOLUSDT", "1m");
  CHECK(sol.mismatches == 0);
  CHECK(sol.gaps == 0);

  // A second SIGHUP with the same file changes nothing (the running config tracks the reload).
  ::kill(d.pid(), SIGHUP);
  REQUIRE(wait_until([&] { return d.log().find("reload done: 0 added, 0 removed") != std::string::npos; }, 10s));
  Ring sol_ring = Ring::open("binance", "SOLUSDT", "1m", d.shm());
  CHECK(sol_ring.writer_alive());
  CHECK(sol_ring.writer_state() == WriterState::kLive);
}
