// Writer cost against the number of readers: one RingWriter publishes forming bars (+ notify, as
// the daemon does per message) while N reader processes follow the same ring, spinning on the
// update counter or blocked in wait_for_update. Reports the writer's CPU time per
// publish_forming + notify (CLOCK_THREAD_CPUTIME_ID read around each call, minus the cost of the
// two reads; preemption by the readers is not counted) and the wall time of each call.
//
//   bench_readers --readers N --mode spin|block [--seconds S] [--period-us P]
//
// --period-us paces the writer (default 1000: 1 kHz, so blocked readers are back in FUTEX_WAIT
// before the next update, the daemon's case: a ring gets one update per stream message); 0 runs
// flat out. Prints one JSON line.
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"

namespace {

constexpr int kMaxReaders = 256;

struct Shared {
  std::atomic<int> ready;
  std::atomic<int> stop;
  std::atomic<std::uint64_t> seen[kMaxReaders];
};

std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

[[noreturn]] void reader_main(const std::string& path, bool spin, Shared* sh, int id) {
  std::uint64_t seen = 0;
  try {
    const mdfeed::Ring r = mdfeed::Ring::open_path(path);
    sh->ready.fetch_add(1);
    std::uint32_t u = r.update_count();
    while (sh->stop.load(std::memory_order_relaxed) == 0) {
      if (spin) {
        std::uint32_t polls = 0;
        while (r.update_count() == u && (++polls & 1023U) != 0) cpu_relax();
      } else {
        r.wait_for_update(u, std::chrono::milliseconds(50));
      }
      const std::uint32_t nu = r.update_count();
      if (nu == u) continue;
      u = nu;
      if (r.forming()) ++seen;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reader %d: %s\n", id, e.what());
  }
  sh->seen[id].store(seen);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int readers = 0;
  std::string mode = "block";
  std::string wake = "inline";
  double seconds = 2;
  long period_us = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--readers") readers = std::atoi(v);
    else if (k == "--mode") mode = v;
    else if (k == "--seconds") seconds = std::atof(v);
    else if (k == "--period-us") period_us = std::atol(v);
    else if (k == "--wake") wake = v;
    else {
      std::fprintf(stderr, "usage: bench_readers --readers N --mode spin|block [--seconds S] [--period-us P] "
                           "[--wake inline|scheduler]\n");
      return 2;
    }
  }
  if (readers < 0 || readers > kMaxReaders || (mode != "spin" && mode != "block") ||
      (wake != "inline" && wake != "scheduler"))
    return 2;
  seconds = std::clamp(seconds, 0.1, 60.0);

  char tmpl[] = "/dev/shm/mdfeed-bench-readers.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  mdfeed::RingWriter::Options o;
  o.shm_dir = dir;
  o.feed = "bench";
  o.symbol = "BTCUSDT";
  o.interval = "1m";
  o.capacity = 1024;
  // "scheduler": the daemon's wake-ups (mdfeed::WakeScheduler, docs/design.md "Wake-ups");
  // "inline": FUTEX_WAKE on the writer's thread for every update, as before.
  std::optional<mdfeed::WakeScheduler> waker;
  if (wake == "scheduler") {
    waker.emplace();
    o.waker = &*waker;
  }
  mdfeed::RingWriter w = mdfeed::RingWriter::open(o);
  const std::string path = w.path();

  void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 1;
  auto* sh = new (mem) Shared{};
  std::vector<pid_t> kids;
  for (int i = 0; i < readers; ++i) {
    const pid_t p = fork();
    if (p == 0) reader_main(path, mode == "spin", sh, i);
    kids.push_back(p);
  }
  const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (sh->ready.load() < readers && std::chrono::steady_clock::now() < ready_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  mdfeed::Bar bar{};
  bar.open_time_ms = 1'700'000'040'000;
  bar.close_time_ms = bar.open_time_ms + 59'999;
  bar.open = bar.high = bar.low = bar.close = 100.0;
  // The cost of the two CLOCK_THREAD_CPUTIME_ID reads around each call, subtracted below.
  std::vector<std::uint64_t> cal(2000);
  for (auto& c : cal) {
    const std::uint64_t a = thread_cpu_ns();
    c = thread_cpu_ns() - a;
  }
  std::sort(cal.begin(), cal.end());
  const std::uint64_t clock_overhead_ns = cal[cal.size() / 2];

  std::vector<std::uint32_t> call_ns, call_cpu_ns;
  const std::size_t max_updates =
      static_cast<std::size_t>(seconds * (period_us > 0 ? 1e6 / static_cast<double>(period_us) : 2e6)) + 16;
  call_ns.reserve(max_updates);
  call_cpu_ns.reserve(max_updates);
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  std::uint64_t n = 0;
  // Measure at least 200 updates even if the readers starve the writer, but never past 4x.
  const std::uint64_t begin = mdfeed::detail::monotonic_ns();
  const std::uint64_t warm = begin + 200'000'000ULL;  // 0.2 s
  const std::uint64_t end = warm + static_cast<std::uint64_t>(seconds * 1e9);
  const std::uint64_t hard_end = warm + static_cast<std::uint64_t>(4 * seconds * 1e9);
  std::uint64_t wall0 = 0, n0 = 0, cpu = 0;
  for (;;) {
    const std::uint64_t now = mdfeed::detail::monotonic_ns();
    if (now >= hard_end || (now >= end && call_ns.size() >= 200) || call_ns.size() >= max_updates) break;
    if (wall0 == 0 && now >= warm) {
      wall0 = now;
      n0 = n;
    }
    bar.trades = ++n;
    bar.close = static_cast<double>(n);
    const std::uint64_t c0 = thread_cpu_ns();
    const std::uint64_t t0 = mdfeed::detail::monotonic_ns();
    w.publish_forming(bar);
    w.notify();
    const std::uint64_t t1 = mdfeed::detail::monotonic_ns();
    const std::uint64_t c1 = thread_cpu_ns();
    if (wall0 != 0) {
      const std::uint64_t dc = c1 - c0 > clock_overhead_ns ? c1 - c0 - clock_overhead_ns : 0;
      cpu += dc;
      call_ns.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t1 - t0, UINT32_MAX)));
      call_cpu_ns.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(dc, UINT32_MAX)));
    }
    if (period_us > 0) {
      next.tv_nsec += period_us * 1000;
      while (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
  }
  const std::uint64_t wall = mdfeed::detail::monotonic_ns() - wall0;
  const std::uint64_t updates = n - n0;

  sh->stop.store(1);
  w.notify();
  for (pid_t p : kids) {
    int st = 0;
    for (int t = 0; t < 400 && waitpid(p, &st, WNOHANG) == 0; ++t)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (waitpid(p, &st, WNOHANG) == 0) {
      ::kill(p, SIGKILL);
      waitpid(p, &st, 0);
    }
  }
  std::uint64_t seen_total = 0;
  for (int i = 0; i < readers; ++i) seen_total += sh->seen[i].load();
  w.close();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  std::sort(call_ns.begin(), call_ns.end());
  std::sort(call_cpu_ns.begin(), call_cpu_ns.end());
  auto pct_of = [](const std::vector<std::uint32_t>& v, double q) -> double {
    if (v.empty()) return 0;
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  auto pct = [&](double q) { return pct_of(call_ns, q); };
  std::printf(
      "{\"readers\":%d,\"mode\":\"%s\",\"period_us\":%ld,\"updates\":%llu,\"seconds\":%.3f,"
      "\"writer_cpu_ns_per_update\":%.1f,\"call_p50_ns\":%.0f,\"call_p99_ns\":%.0f,"
      "\"call_p999_ns\":%.0f,\"cpu_p50_ns\":%.0f,\"cpu_p99_ns\":%.0f,"
      "\"clock_overhead_ns\":%llu,\"reader_seen_fraction\":%.4f,\"wake\":\"%s\"}\n",
      readers, mode.c_str(), period_us, static_cast<unsigned long long>(updates),
      static_cast<double>(wall) / 1e9,
      updates ? static_cast<double>(cpu) / static_cast<double>(updates) : 0.0, pct(0.5), pct(0.99),
      pct(0.999), pct_of(call_cpu_ns, 0.5), pct_of(call_cpu_ns, 0.99),
      static_cast<unsigned long long>(clock_overhead_ns),
      readers && updates ? static_cast<double>(seen_total) / (static_cast<double>(readers) * static_cast<double>(n)) : 0.0,
      wake.c_str());
  return 0;
}
