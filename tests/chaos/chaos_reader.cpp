// chaos_reader: a strategy-like reader process for the chaos tests. It follows rings through
// daemon crashes and restarts with the header-only reader and checks every closed bar against
// the fake exchange's ground truth (bit for bit), contiguity, the zero-copy path and the forming
// bar; it reports writer liveness changes with CLOCK_MONOTONIC timestamps so the test can time
// dead-writer detection against the moment it sent SIGKILL.
//
//   chaos_reader --shm DIR --ring SYMBOL:INTERVAL [--ring ...] [--max-seconds S] [--poll-ms MS]
//
// stdout, one event per line (the test parses them):
//   ready
//   alive RING MONO_NS INSTANCE          the writer became alive (new instance or back)
//   dead RING MONO_NS HEARTBEAT_AGE_MS   writer_alive() turned false
//   progress RING OPEN_MS                newest closed bar checked so far
//   hbgap RING MONO_NS GAP_MS            one writer's heartbeats were GAP_MS (> 1000) apart
//   loopgap - MONO_NS GAP_MS             this reader's own loop paused GAP_MS (> 250): starved
//   violation RING TEXT                  a broken guarantee (also makes the exit status 1)
//   summary key=value ...                at exit (SIGTERM, or --max-seconds)
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chaos_bar_check.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/reader.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::Ring;
using namespace mdfeed::chaos;

std::atomic<bool> g_stop{false};

void on_term(int) { g_stop.store(true); }

struct Totals {
  std::uint64_t loops = 0;
  std::uint64_t bars_checked = 0;   // closed bars compared with truth (each once)
  std::uint64_t view_bars = 0;      // bars read through zero-copy views that stayed valid
  std::uint64_t forming_checked = 0;
  std::uint64_t mismatches = 0;     // closed bar != truth (copy path)
  std::uint64_t torn = 0;           // zero-copy bar != truth while its view was still valid
  std::uint64_t forming_bad = 0;
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t lapped = 0;         // fell more than capacity behind (not a daemon fault)
  std::uint64_t retries = 0;        // copy_range caught the writer mid-lap: retried next loop
  std::uint64_t replaced = 0;       // file replaced and followed (reopen_if_replaced)
  std::uint64_t dead_events = 0;
  std::uint64_t alive_events = 0;
  std::uint64_t errors = 0;         // exceptions from the reader API
  std::uint64_t max_hb_gap_ms = 0;  // longest time between two heartbeats of one writer
  std::uint64_t max_loop_gap_ms = 0;  // longest pause of this reader's own loop (CPU starvation)
};

Totals g_tot;

void violation(const std::string& ring, const std::string& what) {
  std::printf("violation %s %s\n", ring.c_str(), what.c_str());
  std::fflush(stdout);
}

struct Follow {
  std::string symbol, interval, name;
  std::optional<Ring> ring;
  std::uint64_t next_index = 0;   // absolute index of the next closed bar to check
  std::int64_t last_open_ms = 0;  // newest closed bar checked
  bool have_alive = false;
  bool alive = false;
  std::uint64_t instance = 0;
  std::int64_t printed_open_ms = 0;
  std::uint64_t last_hb_ns = 0;
  std::uint64_t hb_instance = 0;

  // First closed bar a fresh mapping lets us check: everything it still holds.
  void sync_start() {
    const std::uint64_t closed = ring->closed_count();
    const std::uint64_t keep = ring->capacity() - 1ULL;
    next_index = closed > keep ? closed - keep : 0;
  }

  void check_closed(const Bar& b) {
    ++g_tot.bars_checked;
    if (const std::string p = closed_bar_problem(symbol, interval, b); !p.empty()) {
      ++g_tot.mismatches;
      violation(name, p);
    }
    if (last_open_ms != 0) {
      const std::int64_t want = mdfeed::next_open_ms(interval, last_open_ms);
      if (b.open_time_ms < want) {
        ++g_tot.duplicates;
        violation(name, "bar " + std::to_string(b.open_time_ms) + " after " +
                            std::to_string(last_open_ms) + " (duplicate or out of order)");
      } else if (b.open_time_ms > want) {
        ++g_tot.gaps;
        violation(name, "gap: bar " + std::to_string(b.open_time_ms) + " follows " +
                            std::to_string(last_open_ms));
      }
    }
    last_open_ms = b.open_time_ms;
  }

  void poll_liveness() {
    const bool now_alive = ring->writer_alive();
    const std::uint64_t inst = ring->writer_instance();
    if (!have_alive || now_alive != alive || (now_alive && inst != instance)) {
      if (now_alive) {
        ++g_tot.alive_events;
        std::printf("alive %s %lld %llu\n", name.c_str(), static_cast<long long>(mono_ns()),
                    static_cast<unsigned long long>(inst));
      } else {
        ++g_tot.dead_events;
        const auto age = ring->heartbeat_age();
        const long long age_ms = age == std::chrono::nanoseconds::max()
                                     ? -1
                                     : static_cast<long long>(age.count() / 1'000'000);
        std::printf("dead %s %lld %lld\n", name.c_str(), static_cast<long long>(mono_ns()), age_ms);
      }
      std::fflush(stdout);
      have_alive = true;
      alive = now_alive;
      instance = inst;
    }
  }

  // Heartbeat spacing of one writer instance (the daemon beats every 500 ms): a long gap is a
  // stalled service loop, which readers would take for a dead writer.
  void poll_heartbeat() {
    const std::uint64_t hb = __atomic_load_n(&ring->header().heartbeat_ns, __ATOMIC_ACQUIRE);
    const std::uint64_t inst = ring->writer_instance();
    if (hb == last_hb_ns) return;
    if (inst == hb_instance && last_hb_ns != 0 && hb > last_hb_ns) {
      const std::uint64_t gap_ms = (hb - last_hb_ns) / 1'000'000;
      if (gap_ms > g_tot.max_hb_gap_ms) g_tot.max_hb_gap_ms = gap_ms;
      if (gap_ms > 1000) {
        std::printf("hbgap %s %llu %llu\n", name.c_str(), static_cast<unsigned long long>(last_hb_ns),
                    static_cast<unsigned long long>(gap_ms));
        std::fflush(stdout);
      }
    }
    last_hb_ns = hb;
    hb_instance = inst;
  }

  void read_new_closed() {
    const std::uint64_t closed = ring->closed_count();
    if (closed < next_index) {
      violation(name, "closed count went back from " + std::to_string(next_index) + " to " +
                          std::to_string(closed));
      next_index = closed;
      return;
    }
    const std::uint64_t keep = ring->capacity() - 1ULL;
    if (closed - next_index > keep) {
      ++g_tot.lapped;  // we slept through capacity bars: resume at the oldest still readable
      next_index = closed - keep;
      last_open_ms = 0;
    }
    if (closed == next_index) return;
    std::vector<Bar> bars(static_cast<std::size_t>(closed - next_index));
    if (!ring->copy_range(next_index, bars.size(), bars.data())) {
      ++g_tot.retries;
      return;
    }
    for (const Bar& b : bars) check_closed(b);
    next_index = closed;
  }

  // Reads bars in place through latest(n); a view that is still valid() afterwards must have
  // shown exactly the truth, or a reader of the zero-copy API saw a torn bar.
  void check_zero_copy() {
    const mdfeed::BarView v = ring->latest(16);
    std::vector<Bar> seen(v.begin(), v.end());
    if (!v.valid()) return;
    std::int64_t prev = 0;
    for (const Bar& b : seen) {
      ++g_tot.view_bars;
      if (!closed_bar_problem(symbol, interval, b).empty() ||
          (prev != 0 && b.open_time_ms != mdfeed::next_open_ms(interval, prev))) {
        ++g_tot.torn;
        violation(name, "zero-copy view showed bar " + std::to_string(b.open_time_ms) +
                            " unlike truth (or out of sequence) while valid()");
      }
      prev = b.open_time_ms;
    }
  }

  void check_forming() {
    const std::optional<Bar> f = ring->forming();
    if (!f) return;
    ++g_tot.forming_checked;
    if (const std::string p = forming_bar_problem(symbol, interval, *f); !p.empty()) {
      ++g_tot.forming_bad;
      violation(name, p);
    }
  }

  void poll(const std::string& shm) {
    try {
      if (!ring) {
        ring.emplace(Ring::open("binance", symbol, interval, shm));
        sync_start();
      } else if (ring->reopen_if_replaced()) {
        ++g_tot.replaced;
        sync_start();  // a new file numbers its bars afresh; contiguity still holds by time
      }
      poll_liveness();
      poll_heartbeat();
      read_new_closed();
      check_zero_copy();
      check_forming();
      if (last_open_ms != printed_open_ms) {
        printed_open_ms = last_open_ms;
        std::printf("progress %s %lld\n", name.c_str(), static_cast<long long>(last_open_ms));
        std::fflush(stdout);
      }
    } catch (const mdfeed::Error& e) {
      ++g_tot.errors;
      violation(name, std::string("reader error: ") + e.what());
    }
  }
};

int usage() {
  std::fputs("usage: chaos_reader --shm DIR --ring SYMBOL:INTERVAL [--ring ...] "
             "[--max-seconds S] [--poll-ms MS]\n",
             stderr);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shm;
  std::vector<Follow> rings;
  double max_seconds = 300;
  int poll_ms = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--shm") {
      shm = v;
    } else if (a == "--ring") {
      const auto colon = v.find(':');
      if (colon == std::string::npos) return usage();
      Follow f;
      f.symbol = v.substr(0, colon);
      f.interval = v.substr(colon + 1);
      f.name = v;
      rings.push_back(std::move(f));
    } else if (a == "--max-seconds") {
      max_seconds = std::atof(v.c_str());
    } else if (a == "--poll-ms") {
      poll_ms = std::atoi(v.c_str());
    } else {
      return usage();
    }
  }
  if (shm.empty() || rings.empty() || poll_ms <= 0) return usage();
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);

  for (auto& f : rings) f.poll(shm);
  std::puts("ready");
  std::fflush(stdout);
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<std::int64_t>(max_seconds * 1000));
  std::int64_t last_loop_ns = mono_ns();
  while (!g_stop.load() && std::chrono::steady_clock::now() < end) {
    ++g_tot.loops;
    // A reader that is itself starved of CPU tells a stalled writer from a stalled machine.
    const std::int64_t now_ns = mono_ns();
    const auto gap_ms = static_cast<std::uint64_t>((now_ns - last_loop_ns) / 1'000'000);
    if (gap_ms > g_tot.max_loop_gap_ms) g_tot.max_loop_gap_ms = gap_ms;
    if (gap_ms > 250) {
      std::printf("loopgap - %lld %llu\n", static_cast<long long>(last_loop_ns), static_cast<unsigned long long>(gap_ms));
      std::fflush(stdout);
    }
    last_loop_ns = now_ns;
    for (auto& f : rings) f.poll(shm);
    // Block on the first ring's futex (read-only mapping) rather than spin; the timeout keeps
    // liveness polling going while no writer publishes anything.
    if (rings[0].ring) {
      rings[0].ring->wait_for_update(rings[0].ring->update_count(), std::chrono::milliseconds(poll_ms));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
    }
  }
  const Totals& t = g_tot;
  const std::uint64_t bad = t.mismatches + t.torn + t.forming_bad + t.gaps + t.duplicates + t.errors;
  std::printf("summary loops=%llu bars_checked=%llu view_bars=%llu forming_checked=%llu "
              "mismatches=%llu torn=%llu forming_bad=%llu gaps=%llu duplicates=%llu lapped=%llu "
              "retries=%llu replaced=%llu dead_events=%llu alive_events=%llu errors=%llu max_hb_gap_ms=%llu max_loop_gap_ms=%llu\n",
              static_cast<unsigned long long>(t.loops), static_cast<unsigned long long>(t.bars_checked),
              static_cast<unsigned long long>(t.view_bars), static_cast<unsigned long long>(t.forming_checked),
              static_cast<unsigned long long>(t.mismatches), static_cast<unsigned long long>(t.torn),
              static_cast<unsigned long long>(t.forming_bad), static_cast<unsigned long long>(t.gaps),
              static_cast<unsigned long long>(t.duplicates), static_cast<unsigned long long>(t.lapped),
              static_cast<unsigned long long>(t.retries), static_cast<unsigned long long>(t.replaced),
              static_cast<unsigned long long>(t.dead_events), static_cast<unsigned long long>(t.alive_events),
              static_cast<unsigned long long>(t.errors), static_cast<unsigned long long>(t.max_hb_gap_ms),
              static_cast<unsigned long long>(t.max_loop_gap_ms));
  std::fflush(stdout);
  return bad == 0 ? 0 : 1;
}
