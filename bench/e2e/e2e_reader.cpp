// End-to-end latency reader: follows one ring with the header-only reader, by spinning on the
// update counter or by blocking in wait_for_update, and records for every forming update it sees
// the fake exchange's send time (CLOCK_MONOTONIC ns in the bar's volume, --latency-probe) and its
// own receive time on the same clock.
//
//   e2e_reader --shm-dir DIR --symbol S --interval I --mode spin|block --seconds N [--out FILE]
//              [--feed binance] [--wait-ring-s 30] [--warmup-s 1]
//
// --out gets one "seq send_ns recv_ns" line per update seen (after the warm-up). Without --out
// the reader only follows the ring (used by bench/readers to load a ring with N readers). The
// last stdout line is a summary: "seen=N skipped=K".
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/reader.hpp"

namespace {

struct Args {
  std::string shm_dir, feed = "binance", symbol = "BTCUSDT", interval = "1h", mode = "spin", out;
  double seconds = 5, wait_ring_s = 30, warmup_s = 1;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: e2e_reader --shm-dir DIR [--feed F] [--symbol S] [--interval I]\n"
               "                  [--mode spin|block] [--seconds N] [--out FILE]\n"
               "                  [--wait-ring-s N] [--warmup-s N]\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (k == "--shm-dir") a.shm_dir = v;
    else if (k == "--feed") a.feed = v;
    else if (k == "--symbol") a.symbol = v;
    else if (k == "--interval") a.interval = v;
    else if (k == "--mode") a.mode = v;
    else if (k == "--out") a.out = v;
    else if (k == "--seconds") a.seconds = std::atof(v.c_str());
    else if (k == "--wait-ring-s") a.wait_ring_s = std::atof(v.c_str());
    else if (k == "--warmup-s") a.warmup_s = std::atof(v.c_str());
    else usage();
  }
  if (a.shm_dir.empty() || (a.mode != "spin" && a.mode != "block")) usage();
  return a;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct Sample {
  std::uint64_t seq, send_ns, recv_ns;
};

// The ring appears once the daemon has started; wait for it (bounded).
mdfeed::Ring open_ring(const Args& a) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<std::int64_t>(a.wait_ring_s * 1000));
  for (;;) {
    try {
      return mdfeed::Ring::open(a.feed, a.symbol, a.interval, a.shm_dir);
    } catch (const mdfeed::Error& e) {
      if (std::chrono::steady_clock::now() > end) {
        std::fprintf(stderr, "e2e_reader: %s\n", e.what());
        std::exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const mdfeed::Ring ring = open_ring(a);
  const bool spin = a.mode == "spin";
  std::vector<Sample> samples;
  samples.reserve(1 << 20);

  const std::uint64_t start = mdfeed::detail::monotonic_ns();
  const std::uint64_t warm_end = start + static_cast<std::uint64_t>(a.warmup_s * 1e9);
  const std::uint64_t end = start + static_cast<std::uint64_t>(a.seconds * 1e9);
  std::uint64_t last_seq = 0, seen = 0, skipped = 0;
  std::uint32_t u = ring.update_count();
  for (;;) {
    std::uint64_t now = 0;
    if (spin) {
      // Spin on the counter's own line; the deadline is checked every 4096 polls.
      std::uint32_t polls = 0;
      while (ring.update_count() == u) {
        cpu_relax();
        if ((++polls & 4095U) == 0 && mdfeed::detail::monotonic_ns() > end) break;
      }
    } else {
      ring.wait_for_update(u, std::chrono::milliseconds(100));
    }
    now = mdfeed::detail::monotonic_ns();  // first thing after the counter moved
    if (now > end) break;
    const std::uint32_t nu = ring.update_count();
    if (nu == u) continue;  // timeout
    u = nu;
    const std::optional<mdfeed::Bar> f = ring.forming();
    if (!f || f->trades <= last_seq) continue;
    if (last_seq != 0 && f->trades > last_seq + 1) skipped += f->trades - last_seq - 1;
    last_seq = f->trades;
    ++seen;
    if (now >= warm_end && !a.out.empty())
      samples.push_back({f->trades, static_cast<std::uint64_t>(f->volume), now});
  }

  if (!a.out.empty()) {
    std::FILE* fp = std::fopen(a.out.c_str(), "w");
    if (fp == nullptr) {
      std::perror(a.out.c_str());
      return 1;
    }
    for (const Sample& s : samples)
      std::fprintf(fp, "%llu %llu %llu\n", static_cast<unsigned long long>(s.seq),
                   static_cast<unsigned long long>(s.send_ns),
                   static_cast<unsigned long long>(s.recv_ns));
    std::fclose(fp);
  }
  std::printf("seen=%llu skipped=%llu samples=%zu\n", static_cast<unsigned long long>(seen),
              static_cast<unsigned long long>(skipped), samples.size());
  return 0;
}
