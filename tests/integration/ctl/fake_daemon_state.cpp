// Test helper for the mdfeed-ctl integration tests: plays a daemon's shared-memory side with the
// real StatusWriter and RingWriter, in a chosen state, so the real mdfeed-ctl binary can be run
// against it. Prints "ready" on stdout once everything is published.
//
//   fake_daemon_state --dir DIR --mode MODE [--seconds S] [--update-ms M]
//
// Modes:
//   healthy   two 1m rings (binance:BTCUSDT, binance:ETHUSDT), one connected connection, all
//             streams updating every M ms (a forming update each time, a close every 5th)
//   degraded  as healthy, but ETHUSDT 1m has not updated for 60 s and a second connection is
//             in backoff after a TLS error
//   quiet     as healthy, but the rings never change after start (tail sees no updates)
//   unknown   as healthy, but ETHUSDT is stored as OKX/Bybit bars are: no trade count
//             (kBarNoTrades), NaN taker-buy volumes; bars whose index is a multiple of 4 also
//             have a NaN quote_volume, so a double the bars table shows is unknown too
//   stopped   publish, then exit cleanly (status segment marked stopped)
//   crashed   publish, then SIGKILL ourselves (pid gone, segment still "live")
//   hung      publish once, then stop beating (heartbeat goes stale) until S seconds pass
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/ring_writer.hpp"
#include "status/status.hpp"
#include "test_util.hpp"

namespace {

using namespace mdfeed;
using mdfeed::test::synth_bar;

volatile std::sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

struct Options {
  std::string dir;
  std::string mode = "healthy";
  double seconds = 30;
  int update_ms = 100;
};

constexpr std::uint64_t kInitialClosed = 100;  // more than kCapacity: the ring has wrapped
constexpr std::uint32_t kCapacity = 64;
constexpr std::uint64_t kUpdatesPerBar = 5;

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") o.dir = v;
    else if (k == "--mode") o.mode = v;
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--update-ms") o.update_ms = std::stoi(v);
    else throw std::runtime_error("unknown option " + k);
  }
  if (o.dir.empty()) throw std::runtime_error("--dir is required");
  return o;
}

// One ring with the synthetic series of test_util.hpp: bar i is synth_bar(i, rev).
struct FakeStream {
  RingWriter ring;
  std::string symbol;
  std::uint64_t rev = 0;
  bool frozen = false;   // degraded mode: this stream stopped updating long ago
  bool unknown = false;  // unknown mode: fields a venue does not send
};

Bar stream_bar(const FakeStream& s, std::uint64_t i, std::uint64_t rev = 0, bool closed = true) {
  Bar b = synth_bar(i, rev, closed);
  if (!s.unknown) return b;
  b = mdfeed::test::with_unknown_fields(b);
  if (i % 4 == 0) b.quote_volume = std::numeric_limits<double>::quiet_NaN();
  return b;
}

FakeStream make_stream(const Options& o, const std::string& symbol, bool unknown) {
  RingWriter::Options ro;
  ro.shm_dir = o.dir;
  ro.feed = "binance";
  ro.symbol = symbol;
  ro.interval = "1m";
  ro.capacity = kCapacity;
  FakeStream s{RingWriter::open(ro), symbol};
  s.unknown = unknown;
  for (std::uint64_t i = 0; i < kInitialClosed; ++i) s.ring.append_closed(stream_bar(s, i));
  s.ring.publish_forming(stream_bar(s, kInitialClosed, 0, false));
  s.ring.notify();
  return s;
}

// One forming update; every kUpdatesPerBar-th update closes the bar and opens the next.
void advance(FakeStream& s) {
  const std::uint64_t i = s.ring.closed_count();
  ++s.rev;
  if (s.rev % kUpdatesPerBar == 0) {
    s.ring.append_closed(stream_bar(s, i, s.rev));
    s.ring.publish_forming(stream_bar(s, i + 1, 0, false));
  } else {
    s.ring.publish_forming(stream_bar(s, i, s.rev, false));
  }
  s.ring.notify();
}

void fill_status(status::Snapshot& snap, const Options& o, const std::vector<FakeStream>& streams) {
  const bool degraded = o.mode == "degraded";
  snap.daemon.config_path = "/etc/mdfeed/mdfeed.yaml";
  snap.daemon.summary = "fake daemon in mode " + o.mode;
  snap.connections.resize(degraded ? 2 : 1);
  auto& c0 = snap.connections[0];
  c0.feed = "binance";
  c0.id = 0;
  c0.state = status::ConnState::kConnected;
  c0.streams = static_cast<std::uint32_t>(streams.size());
  c0.connected_since_ms = status::realtime_ms();
  c0.messages = 1234;
  if (degraded) {
    auto& c1 = snap.connections[1];
    c1.feed = "binance";
    c1.id = 1;
    c1.state = status::ConnState::kBackoff;
    c1.reconnects = 3;
    c1.last_error = "TLS: certificate verify failed";
    c1.last_error_ms = status::realtime_ms();
  }
  snap.streams.resize(streams.size());
}

void update_status(status::Snapshot& snap, const std::vector<FakeStream>& streams) {
  const std::uint64_t now = status::monotonic_ns();
  for (std::size_t i = 0; i < streams.size(); ++i) {
    auto& st = snap.streams[i];
    const FakeStream& fs = streams[i];
    st.feed = "binance";
    st.symbol = fs.symbol;
    st.interval = "1m";
    st.state = status::StreamState::kLive;
    st.closed_bars = fs.ring.closed_count();
    st.gaps_filled = 1;
    st.last_bar_open_ms = fs.ring.last_closed() ? fs.ring.last_closed()->open_time_ms : 0;
    // A frozen stream's last update is pinned 60 s in the past: stale under any sane limit.
    const std::uint64_t sixty_s = 60'000'000'000ULL;
    if (!fs.frozen) st.last_update_ns = now;
    else if (st.last_update_ns == 0) st.last_update_ns = now > sixty_s ? now - sixty_s : 1;
  }
}

void beat(std::vector<FakeStream>& streams, status::StatusWriter& w) {
  for (auto& s : streams) s.ring.heartbeat();
  w.heartbeat();
}

int run(const Options& o) {
  std::vector<FakeStream> streams;
  streams.push_back(make_stream(o, "BTCUSDT", false));
  streams.push_back(make_stream(o, "ETHUSDT", o.mode == "unknown"));
  streams[1].frozen = o.mode == "degraded";
  auto w = status::StatusWriter::open(o.dir, 4, static_cast<std::uint32_t>(streams.size()));
  fill_status(w.edit(), o, streams);
  update_status(w.edit(), streams);
  if (!w.publish()) throw std::runtime_error("publish: " + w.last_error());
  std::printf("ready\n");
  std::fflush(stdout);

  if (o.mode == "stopped") return 0;  // destructors mark the segment and the rings stopped
  if (o.mode == "crashed") ::kill(::getpid(), SIGKILL);

  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds);
  while (!g_stop && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.update_ms));
    if (o.mode == "hung") continue;  // alive but not beating
    if (o.mode != "quiet")
      for (auto& s : streams)
        if (!s.frozen) advance(s);
    update_status(w.edit(), streams);
    (void)w.publish();
    beat(streams, w);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_daemon_state: %s\n", e.what());
    return 1;
  }
}
