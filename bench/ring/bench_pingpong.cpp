// Cross-process latency of the ring, measured as half a ping-pong round trip (no cross-core
// clock comparison needed), next to the physical floor: a bare cache-line ping-pong between the
// same two processes. Also the futex path: publish + notify to a reader blocked in
// wait_for_update, timed with CLOCK_MONOTONIC (the same clock in both processes).
//
//   bench_pingpong [--rounds N] [--runs R]   prints one line per run and the median of runs
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "test_util.hpp"

using namespace mdfeed;

namespace {

std::uint64_t now_ns() { return detail::monotonic_ns(); }

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  (void)sched_setaffinity(0, sizeof set, &set);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct Pct {
  double p50, p99, p999, max;
};

Pct percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.5), at(0.99), at(0.999), v.back()};
}

RingWriter open_ring(const std::string& dir, const char* sym) {
  RingWriter::Options o;
  o.shm_dir = dir;
  o.feed = "bench";
  o.symbol = sym;
  o.interval = "1m";
  o.capacity = 1024;
  return RingWriter::open(o);
}

// Spins until the forming bar of r carries sequence `want` in its trade count. It spins on the
// update counter (its own cache line) and reads the slot only when the counter moves, so the
// spinning does not steal the slot's lines from the writer mid-write.
void spin_until(const Ring& r, std::uint64_t want) {
  std::uint32_t seen = r.update_count() - 1;
  for (;;) {
    const std::uint32_t u = r.update_count();
    if (u != seen) {
      seen = u;
      auto f = r.forming();
      if (f && f->trades >= want) return;
    }
    cpu_relax();
  }
}

// Ring ping-pong: parent publishes seq on PING, child sees it and publishes seq on PONG.
std::vector<double> ring_pingpong(const std::string& dir, int rounds) {
  RingWriter ping = open_ring(dir, "PING");
  { RingWriter pong = open_ring(dir, "PONG"); pong.close(); }
  const pid_t child = fork();
  if (child == 0) {
    pin(1);
    RingWriter pong = open_ring(dir, "PONG");
    Ring in = Ring::open("bench", "PING", "1m", dir);
    Bar b = test::synth_bar(0, 0, false);
    for (int i = 1; i <= rounds; ++i) {
      spin_until(in, static_cast<std::uint64_t>(i));
      b.trades = static_cast<std::uint64_t>(i);
      pong.publish_forming(b);
    }
    _exit(0);
  }
  pin(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // child opens its rings
  Ring in = Ring::open("bench", "PONG", "1m", dir);
  std::vector<double> half;
  half.reserve(static_cast<std::size_t>(rounds));
  Bar b = test::synth_bar(0, 0, false);
  for (int i = 1; i <= rounds; ++i) {
    const std::uint64_t t0 = now_ns();
    b.trades = static_cast<std::uint64_t>(i);
    ping.publish_forming(b);
    spin_until(in, static_cast<std::uint64_t>(i));
    const std::uint64_t t1 = now_ns();
    if (i > rounds / 10) half.push_back(static_cast<double>(t1 - t0) / 2.0);  // after warm-up
  }
  waitpid(child, nullptr, 0);
  return half;
}

// The floor: one cache line bounced between the same two cores with plain atomics.
std::vector<double> bare_pingpong(int rounds) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* ping = new (p) std::atomic<std::uint64_t>(0);
  auto* pong = new (static_cast<char*>(p) + 128) std::atomic<std::uint64_t>(0);
  const pid_t child = fork();
  if (child == 0) {
    pin(1);
    for (std::uint64_t i = 1; i <= static_cast<std::uint64_t>(rounds); ++i) {
      while (ping->load(std::memory_order_acquire) < i) cpu_relax();
      pong->store(i, std::memory_order_release);
    }
    _exit(0);
  }
  pin(0);
  std::vector<double> half;
  half.reserve(static_cast<std::size_t>(rounds));
  for (std::uint64_t i = 1; i <= static_cast<std::uint64_t>(rounds); ++i) {
    const std::uint64_t t0 = now_ns();
    ping->store(i, std::memory_order_release);
    while (pong->load(std::memory_order_acquire) < i) cpu_relax();
    const std::uint64_t t1 = now_ns();
    if (i > static_cast<std::uint64_t>(rounds / 10)) half.push_back(static_cast<double>(t1 - t0) / 2.0);
  }
  waitpid(child, nullptr, 0);
  munmap(p, 4096);
  return half;
}

// Futex path: the parent stamps CLOCK_MONOTONIC into the bar, publishes and notifies; the
// child, blocked in wait_for_update, stamps when it runs. Gaps between publishes make sure the
// child is really asleep each time.
std::vector<double> futex_wake(const std::string& dir, int rounds) {
  RingWriter w = open_ring(dir, "WAKE");
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* out = static_cast<double*>(p);
  const int n = std::min(rounds, 500);
  const pid_t child = fork();
  if (child == 0) {
    pin(1);
    Ring r = Ring::open("bench", "WAKE", "1m", dir);
    std::uint32_t seen = r.update_count();
    for (int i = 0; i < n; ++i) {
      if (!r.wait_for_update(seen, std::chrono::seconds(5))) _exit(1);
      const std::uint64_t t1 = now_ns();
      seen = r.update_count();
      auto f = r.forming();
      if (f) out[i] = static_cast<double>(t1 - static_cast<std::uint64_t>(f->open_time_ms));
    }
    _exit(0);
  }
  pin(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Bar b = test::synth_bar(0, 0, false);
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    b.open_time_ms = static_cast<std::int64_t>(now_ns());
    w.publish_forming(b);
    w.notify();
  }
  waitpid(child, nullptr, 0);
  std::vector<double> v(out, out + n);
  munmap(p, 4096);
  return v;
}

void print(const char* what, const Pct& p) {
  std::printf("%-34s p50=%8.1f ns  p99=%8.1f ns  p99.9=%8.1f ns  max=%10.1f ns\n", what, p.p50,
              p.p99, p.p999, p.max);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 200000;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
  }
  test::TempDir dir("mdfeed-pingpong");
  std::vector<double> r50, r99, b50, b99, f50, f99;
  for (int run = 0; run < runs; ++run) {
    const Pct bare = percentiles(bare_pingpong(rounds));
    const Pct ring = percentiles(ring_pingpong(dir.path(), rounds));
    const Pct fut = percentiles(futex_wake(dir.path(), rounds));
    std::printf("run %d\n", run + 1);
    print("  bare cache-line one-way (floor)", bare);
    print("  ring publish->spinning reader", ring);
    print("  futex publish->blocked reader", fut);
    b50.push_back(bare.p50); b99.push_back(bare.p99);
    r50.push_back(ring.p50); r99.push_back(ring.p99);
    f50.push_back(fut.p50); f99.push_back(fut.p99);
  }
  std::printf("median of %d runs (%d rounds each):\n", runs, rounds);
  std::printf("  bare cache-line one-way (floor):  p50 %.0f ns  p99 %.0f ns\n", median(b50), median(b99));
  std::printf("  ring publish->spinning reader:    p50 %.0f ns  p99 %.0f ns\n", median(r50), median(r99));
  std::printf("  futex publish->blocked reader:    p50 %.0f ns  p99 %.0f ns\n", median(f50), median(f99));
  return 0;
}
