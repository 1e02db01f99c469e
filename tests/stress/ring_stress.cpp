// Torture test for the ring protocol (rigtorp/Seqlock style): one writer publishing as fast as
// it can into a small ring, several readers validating an invariant that any torn read breaks.
//
//   ring_stress procs   --readers N --reads R   writer and readers are separate processes
//   ring_stress threads --readers N --reads R   same, as threads (so TSan sees every access)
//   ring_stress restart --readers N --restarts K writer SIGKILLed mid-write K times
//
// $MDFEED_TEST_SCALE (e.g. 0.1 under sanitizers) scales the read counts. Exit 0 only with zero
// torn reads, every reader alive to the end, and the read target reached.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "test_util.hpp"

using namespace mdfeed;
using mdfeed::test::synth_bar;
using mdfeed::test::synth_consistent;

namespace {

constexpr std::uint64_t kRevsPerBar = 7;  // forming updates before each close

// Lives in a MAP_SHARED|MAP_ANONYMOUS page inherited across fork (test bookkeeping only).
struct Shared {
  std::atomic<int> stop{0};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> bars_checked{0};
  std::atomic<std::uint64_t> view_checks{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> instances_seen{0};
  std::atomic<std::uint64_t> reopens{0};
  std::atomic<std::uint64_t> writes{0};
};

Shared* make_shared_block() {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) Shared();
}

double scale() {
  const char* s = std::getenv("MDFEED_TEST_SCALE");
  const double v = s != nullptr ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

RingWriter::Options opts(const std::string& dir, std::uint32_t cap) {
  RingWriter::Options o;
  o.shm_dir = dir;
  o.feed = "stress";
  o.symbol = "TEST";
  o.interval = "1m";
  o.capacity = cap;
  return o;
}

std::uint64_t index_of(const Bar& b) {
  return static_cast<std::uint64_t>((b.open_time_ms - test::kBaseOpenMs) / test::kMinuteMs);
}

// Writes bars forever (until stop): kRevsPerBar forming updates, then the close. Continues the
// series after whatever the ring already holds, as the daemon does after a restart.
void writer_loop(RingWriter& w, Shared& sh) {
  std::uint64_t i = 0;
  if (auto last = w.last_closed()) i = index_of(*last) + 1;
  std::uint64_t n = 0;
  while (sh.stop.load(std::memory_order_relaxed) == 0) {
    for (std::uint64_t rev = 0; rev < kRevsPerBar; ++rev) w.publish_forming(synth_bar(i, rev, false));
    w.append_closed(synth_bar(i, kRevsPerBar));
    ++i;
    if ((++n & 63) == 0) {
      w.heartbeat();
      w.notify();
      sh.writes.fetch_add(64, std::memory_order_relaxed);
    }
  }
}

// Validated copy of the latest k closed bars: each must be a consistent closed synthetic bar and
// the sequence contiguous.
bool check_copy(const Ring& r, std::size_t k, std::vector<Bar>& buf, Shared& sh) {
  r.copy_latest(k, buf);
  bool ok = true;
  for (std::size_t j = 0; j < buf.size(); ++j) {
    if (!synth_consistent(buf[j]) || !buf[j].closed() || buf[j].trades % 1000 != kRevsPerBar) ok = false;
    if (j > 0 && buf[j].open_time_ms != buf[j - 1].open_time_ms + test::kMinuteMs) ok = false;
  }
  sh.bars_checked.fetch_add(buf.size(), std::memory_order_relaxed);
  return ok;
}

bool check_forming(const Ring& r) {
  auto f = r.forming();
  return !f || (synth_consistent(*f) && !f->closed());
}

// Zero-copy path: read the bars in place, then ask the view whether that was safe. Reads are
// plain loads racing the writer by design, so this runs only across processes (not under TSan).
bool check_view(const Ring& r, std::size_t k, Shared& sh) {
  auto v = r.latest(k);
  Bar local[20];
  std::size_t n = 0;
  for (const Bar& b : v) local[n++] = b;
  if (!v.valid()) return true;  // lapped: the view says so, nothing to judge
  sh.view_checks.fetch_add(1, std::memory_order_relaxed);
  // Bars are contiguous in open time (a replaced file renumbers absolute indices, not times).
  for (std::size_t j = 0; j < n; ++j)
    if (!synth_consistent(local[j]) || index_of(local[j]) != index_of(local[0]) + j) return false;
  return true;
}

void reader_loop(const std::string& dir, Shared& sh, std::uint64_t target, bool zero_copy,
                 bool until_stop) {
  Ring r = Ring::open("stress", "TEST", "1m", dir);
  std::vector<Bar> buf;
  buf.reserve(32);
  std::uint64_t last_instance = r.writer_instance();
  std::uint64_t last_closed = 0;
  sh.instances_seen.fetch_add(1);
  for (std::uint64_t n = 0; until_stop ? sh.stop.load(std::memory_order_relaxed) == 0 : n < target; ++n) {
    bool ok = true;
    switch (n % 3) {
      case 0: ok = check_copy(r, 1 + n % 20, buf, sh); break;
      case 1: ok = check_forming(r); break;
      default: ok = zero_copy ? check_view(r, 1 + n % 20, sh) : check_copy(r, 20, buf, sh); break;
    }
    const std::uint64_t closed = r.closed_count();
    if (closed < last_closed && !until_stop) ok = false;  // counts never go backwards
    last_closed = closed;
    if (!ok) sh.torn.fetch_add(1);
    sh.reads.fetch_add(1, std::memory_order_relaxed);
    if (until_stop && (n & 1023) == 0) {
      if (r.reopen_if_replaced()) {
        sh.reopens.fetch_add(1);
        last_closed = 0;
      }
      if (r.writer_instance() != last_instance) {
        last_instance = r.writer_instance();
        sh.instances_seen.fetch_add(1);
      }
    }
  }
}

int report(const char* mode, Shared& sh, std::uint64_t min_reads, bool children_ok) {
  std::printf("%s: reads=%llu bars_checked=%llu zero_copy_views=%llu writer_bars=%llu torn=%llu "
              "instances_seen=%llu reopens=%llu children_ok=%d\n",
              mode, static_cast<unsigned long long>(sh.reads.load()),
              static_cast<unsigned long long>(sh.bars_checked.load()),
              static_cast<unsigned long long>(sh.view_checks.load()),
              static_cast<unsigned long long>(sh.writes.load()),
              static_cast<unsigned long long>(sh.torn.load()),
              static_cast<unsigned long long>(sh.instances_seen.load()),
              static_cast<unsigned long long>(sh.reopens.load()), children_ok ? 1 : 0);
  const bool pass = sh.torn.load() == 0 && sh.reads.load() >= min_reads && children_ok;
  std::printf("%s\n", pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}

bool wait_ok(pid_t pid, const char* what) {
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return false;
  if (WIFSIGNALED(st)) {
    std::printf("%s %d died of signal %d (%s)\n", what, pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
    return false;
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

template <typename F>
pid_t spawn(F&& f) {
  const pid_t pid = fork();
  if (pid == 0) {
    int rc = 0;
    try {
      f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      rc = 3;
    }
    std::fflush(nullptr);
    _exit(rc);
  }
  return pid;
}

int run_procs(const std::string& dir, int readers, std::uint64_t reads) {
  Shared& sh = *make_shared_block();
  RingWriter w = RingWriter::open(opts(dir, 64));
  std::vector<pid_t> kids;
  for (int k = 0; k < readers; ++k)
    kids.push_back(spawn([&] { reader_loop(dir, sh, reads, true, false); }));
  std::thread watcher([&] {
    bool ok = true;
    for (pid_t p : kids) ok = wait_ok(p, "reader") && ok;
    if (!ok) sh.torn.fetch_add(1000000);
    sh.stop = 1;
  });
  writer_loop(w, sh);
  watcher.join();
  return report("procs", sh, reads * static_cast<std::uint64_t>(readers), true);
}

int run_threads(const std::string& dir, int readers, std::uint64_t reads) {
  Shared& sh = *make_shared_block();
  RingWriter w = RingWriter::open(opts(dir, 64));
  std::vector<std::thread> ts;
  for (int k = 0; k < readers; ++k) ts.emplace_back([&] { reader_loop(dir, sh, reads, false, false); });
  std::thread wt([&] { writer_loop(w, sh); });
  for (auto& t : ts) t.join();
  sh.stop = 1;
  wt.join();
  return report("threads", sh, reads * static_cast<std::uint64_t>(readers), true);
}

int run_restart(const std::string& dir, int readers, int restarts) {
  Shared& sh = *make_shared_block();
  Shared& wsh = *make_shared_block();  // the writers' own stop flag, never set: they get SIGKILL
  { RingWriter w = RingWriter::open(opts(dir, 64)); w.append_closed(synth_bar(0, kRevsPerBar)); }
  std::vector<pid_t> kids;
  for (int k = 0; k < readers; ++k) kids.push_back(spawn([&] { reader_loop(dir, sh, 0, true, true); }));

  std::mt19937 rng(12345);
  std::uint64_t prev_closed = 0;
  std::uint32_t prev_cap = 64;
  bool ok = true;
  for (int k = 0; k < restarts; ++k) {
    // Every third writer changes capacity, forcing the create-and-rename path.
    const std::uint32_t cap = (k % 3 == 2) ? 128U : 64U;
    const pid_t wp = spawn([&] {
      RingWriter w = RingWriter::open(opts(dir, cap));
      writer_loop(w, wsh);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 120));
    kill(wp, SIGKILL);
    int st = 0;
    waitpid(wp, &st, 0);
    Ring check = Ring::open("stress", "TEST", "1m", dir);
    // The killed writer made progress on the file it reused (replacements renumber the bars).
    if (cap == prev_cap && check.closed_count() <= prev_closed) {
      std::printf("writer %d made no progress (%llu)\n", k, static_cast<unsigned long long>(prev_closed));
      ok = false;
    }
    prev_closed = check.closed_count();
    prev_cap = cap;
  }
  // One last clean writer so readers observe a live series after the final kill.
  const pid_t last = spawn([&] {
    RingWriter w = RingWriter::open(opts(dir, 64));
    writer_loop(w, sh);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  sh.stop = 1;
  ok = wait_ok(last, "writer") && ok;
  for (pid_t p : kids) ok = wait_ok(p, "reader") && ok;
  Ring final_ring = Ring::open("stress", "TEST", "1m", dir);
  std::vector<Bar> all = final_ring.copy_latest(final_ring.capacity() - 1);
  for (std::size_t j = 1; j < all.size(); ++j)
    if (all[j].open_time_ms != all[j - 1].open_time_ms + test::kMinuteMs || !synth_consistent(all[j])) ok = false;
  // Each reader saw its first instance plus at least one restart.
  if (sh.instances_seen.load() < static_cast<std::uint64_t>(readers) * 2) ok = false;
  if (sh.reopens.load() == 0) ok = false;
  return report("restart", sh, 1000, ok);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ring_stress procs|threads|restart [--readers N] [--reads R] [--restarts K]\n");
    return 2;
  }
  const std::string mode = argv[1];
  int readers = 3;
  std::uint64_t reads = 1'000'000;
  int restarts = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--readers") readers = std::atoi(argv[i + 1]);
    else if (k == "--reads") reads = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--restarts") restarts = std::atoi(argv[i + 1]);
  }
  reads = static_cast<std::uint64_t>(static_cast<double>(reads) * scale());
  test::TempDir dir("mdfeed-stress");
  try {
    if (mode == "procs") return run_procs(dir.path(), readers, reads);
    if (mode == "threads") return run_threads(dir.path(), readers, reads);
    if (mode == "restart") return run_restart(dir.path(), readers, restarts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ring_stress: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
