// Single-thread costs of the ring operations (Google Benchmark). Run on an idle machine:
//   build/bench/ring/bench_ring --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <vector>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "test_util.hpp"

using namespace mdfeed;

namespace {

struct Fixture {
  test::TempDir dir{"mdfeed-bench"};
  RingWriter w;
  Ring r;
  Fixture() : w(open_writer(dir.path())), r(Ring::open("bench", "BTCUSDT", "1m", dir.path())) {
    for (std::uint64_t i = 0; i < 100; ++i) w.append_closed(test::synth_bar(i));
  }
  static RingWriter open_writer(const std::string& d) {
    RingWriter::Options o;
    o.shm_dir = d;
    o.feed = "bench";
    o.symbol = "BTCUSDT";
    o.interval = "1m";
    o.capacity = 4096;
    return RingWriter::open(o);
  }
};

void BM_writer_publish_forming(benchmark::State& st) {
  Fixture f;
  Bar b = test::synth_bar(100, 0, false);
  for (auto _ : st) {
    b.trades += 1;
    f.w.publish_forming(b);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_writer_publish_forming);

void BM_writer_publish_forming_notify(benchmark::State& st) {
  Fixture f;
  Bar b = test::synth_bar(100, 0, false);
  for (auto _ : st) {
    b.trades += 1;
    f.w.publish_forming(b);
    f.w.notify();  // FUTEX_WAKE syscall, no waiter
  }
}
BENCHMARK(BM_writer_publish_forming_notify);

void BM_writer_append_closed(benchmark::State& st) {
  Fixture f;
  std::uint64_t i = 100;
  for (auto _ : st) f.w.append_closed(test::synth_bar(i++));
}
BENCHMARK(BM_writer_append_closed);

void BM_reader_latest20_view(benchmark::State& st) {
  Fixture f;
  for (auto _ : st) {
    auto v = f.r.latest(20);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_reader_latest20_view);

void BM_reader_latest20_view_sum_close(benchmark::State& st) {
  Fixture f;
  for (auto _ : st) {
    auto v = f.r.latest(20);
    double s = 0;
    for (const Bar& b : v) s += b.close;
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(v.valid());
  }
}
BENCHMARK(BM_reader_latest20_view_sum_close);

void BM_reader_copy_latest20(benchmark::State& st) {
  Fixture f;
  std::vector<Bar> out;
  out.reserve(32);
  for (auto _ : st) {
    f.r.copy_latest(20, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_reader_copy_latest20);

void BM_reader_forming(benchmark::State& st) {
  Fixture f;
  f.w.publish_forming(test::synth_bar(100, 0, false));
  for (auto _ : st) benchmark::DoNotOptimize(f.r.forming());
}
BENCHMARK(BM_reader_forming);

}  // namespace

BENCHMARK_MAIN();
