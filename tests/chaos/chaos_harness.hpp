// Chaos-test harness on top of the integration harness: reader processes (C++ and Python) that
// keep reading while the test breaks things, the parsing of their event lines, the check of
// the Python reader's bars against ground truth, and a seeded random source.
#pragma once

#include <catch2/catch.hpp>

#include <cinttypes>
#include <cstdlib>
#include <random>
#include <sstream>

#include "chaos_bar_check.hpp"
#include "harness.hpp"

namespace mdfeed::chaos {

using it::Child;
using it::wait_until;

// The seed is printed; MDFEED_CHAOS_SEED replays a run.
inline std::uint64_t chaos_seed(std::uint64_t fallback) {
  const char* s = std::getenv("MDFEED_CHAOS_SEED");
  const std::uint64_t seed = (s != nullptr && *s != '\0') ? std::strtoull(s, nullptr, 10) : fallback;
  std::printf("chaos: seed %" PRIu64 " (MDFEED_CHAOS_SEED=%" PRIu64 " replays this run)\n", seed, seed);
  std::fflush(stdout);
  return seed;
}

inline std::vector<std::string> ring_specs(const it::DaemonConfig& c) {
  std::vector<std::string> out;
  for (const auto& s : c.symbols)
    for (const auto& i : c.intervals) out.push_back(s + ":" + i);
  return out;
}

// Every ring exists and holds at least its backfill.
inline bool backfilled(const it::Daemon& d) {
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      try {
        if (Ring::open("binance", s, i, d.shm()).closed_count() < d.cfg().backfill_bars) return false;
      } catch (const Error&) {
        return false;
      }
    }
  return true;
}

// Generous bounds for a loaded 2-core machine: the condition is what a test asserts.
inline constexpr auto kStartup = std::chrono::seconds(90);
inline constexpr auto kCatchUp = std::chrono::seconds(120);

inline bool start_and_backfill(it::Daemon& d) {
  d.start();
  return wait_until([&] { return backfilled(d); }, kStartup);
}

// Every ring equals ground truth (harness check_ring): prints and counts what differs.
struct TruthVerdict {
  std::size_t bars = 0, mismatches = 0, gaps = 0;
  std::string problems;
};

inline TruthVerdict truth_verdict(const it::Daemon& d) {
  TruthVerdict v;
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      const it::RingCheck rc = it::check_ring(d.shm(), s, i);
      v.bars += rc.bars;
      v.mismatches += rc.mismatches;
      v.gaps += rc.gaps;
      if (!rc.first_problem.empty()) v.problems += rc.first_problem + "; ";
    }
  std::printf("chaos: rings vs ground truth: %zu bars, %zu mismatches, %zu gaps %s\n", v.bars,
              v.mismatches, v.gaps, v.problems.c_str());
  std::fflush(stdout);
  return v;
}

struct ReaderEvent {
  std::string kind;  // alive | dead | progress | violation | ready | summary
  std::string ring;
  std::int64_t value = 0;  // mono ns (alive/dead) or open ms (progress)
  std::string rest;
};

// One reader process (chaos_reader or chaos_reader.py) and its event stream.
class ReaderProc {
 public:
  ReaderProc(std::string label, std::vector<std::string> argv, const std::string& log)
      : label_(std::move(label)), log_(log), child_(std::make_unique<Child>(std::move(argv), log, false)) {}

  [[nodiscard]] const std::string& label() const { return label_; }
  [[nodiscard]] bool ready() const { return child_->saw("ready"); }
  [[nodiscard]] bool running() { return child_->running(); }
  [[nodiscard]] std::string stderr_text() const { return it::slurp(log_); }

  [[nodiscard]] std::vector<ReaderEvent> events() const {
    std::vector<ReaderEvent> out;
    for (const auto& l : child_->lines()) {
      std::istringstream in(l);
      ReaderEvent e;
      in >> e.kind;
      if (e.kind == "alive" || e.kind == "dead" || e.kind == "progress" || e.kind == "hbgap" ||
          e.kind == "loopgap") {
        in >> e.ring >> e.value;
      } else if (e.kind == "violation") {
        in >> e.ring;
      }
      std::getline(in, e.rest);
      out.push_back(std::move(e));
    }
    return out;
  }
  // "alive" or "dead" (the last liveness event for ring), "" before the first.
  [[nodiscard]] std::string liveness(const std::string& ring) const {
    std::string last;
    for (const auto& e : events())
      if ((e.kind == "alive" || e.kind == "dead") && e.ring == ring) last = e.kind;
    return last;
  }
  [[nodiscard]] std::int64_t progress(const std::string& ring) const {
    std::int64_t p = 0;
    for (const auto& e : events())
      if (e.kind == "progress" && e.ring == ring) p = e.value;
    return p;
  }
  [[nodiscard]] std::vector<std::string> violations() const {
    std::vector<std::string> v;
    for (const auto& e : events())
      if (e.kind == "violation") v.push_back(e.ring + e.rest);
    return v;
  }
  [[nodiscard]] std::string summary() const {
    for (const auto& e : events())
      if (e.kind == "summary") return e.rest;
    return {};
  }
  // The value of key=N in the summary line, -1 if absent.
  [[nodiscard]] long long summary_value(const std::string& key) const {
    const std::string s = " " + summary() + " ";
    const auto p = s.find(" " + key + "=");
    return p == std::string::npos ? -1 : std::atoll(s.c_str() + p + key.size() + 2);
  }
  // SIGTERM: the reader finishes its loop, prints its summary and exits 0 if it saw no
  // violation. Returns the exit status (-signal if it died of one, e.g. -7 for SIGBUS).
  int stop() { return child_->terminate(std::chrono::seconds(30)); }

 private:
  std::string label_;
  std::string log_;
  std::unique_ptr<Child> child_;
};

inline std::unique_ptr<ReaderProc> start_cpp_reader(const test::TempDir& dir, const std::string& shm,
                                                    const std::vector<std::string>& rings) {
  std::vector<std::string> argv = {MDFEED_CHAOS_READER_BIN, "--shm", shm, "--max-seconds", "600"};
  for (const auto& r : rings) {
    argv.push_back("--ring");
    argv.push_back(r);
  }
  return std::make_unique<ReaderProc>("c++ reader", std::move(argv), dir.path() + "/reader-cpp.log");
}

inline std::string py_dump_path(const test::TempDir& dir) { return dir.path() + "/reader-py.bars"; }

inline std::unique_ptr<ReaderProc> start_py_reader(const test::TempDir& dir, const std::string& shm,
                                                   const std::vector<std::string>& rings) {
  // Debian's python3 has numpy and pandas; the first python3 on PATH may not.
  ::setenv("PYTHONPATH", MDFEED_PYTHON_CLIENT_DIR, 1);
  ::setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
  std::vector<std::string> argv = {MDFEED_SYSTEM_PYTHON, MDFEED_CHAOS_READER_PY, "--shm", shm,
                                   "--dump", py_dump_path(dir), "--max-seconds", "600"};
  for (const auto& r : rings) {
    argv.push_back("--ring");
    argv.push_back(r);
  }
  return std::make_unique<ReaderProc>("python reader", std::move(argv), dir.path() + "/reader-py.log");
}

struct DumpCheck {
  std::size_t bars = 0;
  std::size_t mismatches = 0;
  std::string first_problem;
};

// Every bar the Python reader saw (its --dump file) against fake::truth_bar, bit for bit.
inline DumpCheck check_python_dump(const std::string& path) {
  DumpCheck dc;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string sym, ivl, f[8];
    Bar b{};
    ls >> sym >> ivl >> b.open_time_ms >> b.close_time_ms;
    for (auto& x : f) ls >> x;
    ls >> b.trades;
    double* d[8] = {&b.open, &b.high, &b.low, &b.close, &b.volume, &b.quote_volume,
                    &b.taker_buy_volume, &b.taker_buy_quote_volume};
    for (int i = 0; i < 8; ++i) *d[i] = std::strtod(f[i].c_str(), nullptr);  // hex floats: exact
    b.flags = kBarClosed;
    ++dc.bars;
    if (!ls || !bits_equal(b, fake::truth_bar(sym, ivl, b.open_time_ms))) {
      if (dc.mismatches++ == 0) dc.first_problem = "python reader saw: " + line;
    }
  }
  return dc;
}

// Starts both readers and waits until they have mapped every ring.
struct Readers {
  std::unique_ptr<ReaderProc> cpp;
  std::unique_ptr<ReaderProc> py;
  std::vector<ReaderProc*> all() { return {cpp.get(), py.get()}; }
};

inline Readers start_readers(const test::TempDir& dir, const std::string& shm,
                             const std::vector<std::string>& rings) {
  Readers r{start_cpp_reader(dir, shm, rings), start_py_reader(dir, shm, rings)};
  if (!wait_until([&] { return r.cpp->ready() && r.py->ready(); }, std::chrono::seconds(60)))
    throw std::runtime_error("readers did not start: " + r.cpp->stderr_text() + r.py->stderr_text());
  return r;
}

// Stops a reader and checks what every chaos test requires of it: it exited 0 by itself (no
// crash, no SIGBUS, no violation), and its summary says 0 torn, 0 mismatches, 0 gaps.
inline void print_reader_verdict(ReaderProc& r, int status) {
  std::printf("chaos: %s exit status %d; %s\n", r.label().c_str(), status, r.summary().c_str());
  for (const auto& v : r.violations()) std::printf("chaos: %s VIOLATION %s\n", r.label().c_str(), v.c_str());
  std::fflush(stdout);
}

// Waits until both readers have checked the newest closed bar of every ring, stops them, and
// checks what every chaos test requires: each exited 0 by itself (no crash, no SIGBUS, no
// violation), 0 torn bars, 0 gaps, and every bar either of them saw equals ground truth.
inline void finish_readers(const test::TempDir& dir, const it::Daemon& d, Readers& r) {
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      const std::int64_t last = it::last_closed_open(d.shm(), s, i);
      for (ReaderProc* p : r.all()) {
        INFO(p->label() << " following " << s << ":" << i << " up to " << last);
        CHECK(wait_until([&] { return p->progress(s + ":" + i) >= last; }, std::chrono::seconds(30)));
      }
    }
  for (ReaderProc* p : r.all()) {
    const int status = p->stop();
    print_reader_verdict(*p, status);
    INFO(p->label() << " stderr:\n" << p->stderr_text());
    CHECK(status == 0);
    CHECK(p->violations().empty());
    CHECK(p->summary_value("torn") == 0);
    CHECK(p->summary_value("gaps") == 0);
    CHECK(p->summary_value("errors") == 0);
  }
  if (r.py->summary_value("forming_gap") > 0)
    std::printf("chaos: KNOWN ISSUE: get_price(include_forming=True) put the forming bar after a hole "
                "%lld times (the forming slot runs ahead of a REST gap fill; see the chaos report)\n",
                r.py->summary_value("forming_gap"));
  CHECK(r.cpp->summary_value("mismatches") == 0);
  CHECK(r.cpp->summary_value("forming_bad") == 0);
  CHECK(r.cpp->summary_value("bars_checked") > 0);
  const DumpCheck dc = check_python_dump(py_dump_path(dir));
  std::printf("chaos: python reader's %zu distinct closed bars vs ground truth: %zu mismatches %s\n",
              dc.bars, dc.mismatches, dc.first_problem.c_str());
  std::fflush(stdout);
  CHECK(dc.bars > 0);
  CHECK(dc.mismatches == 0);
}

}  // namespace mdfeed::chaos
