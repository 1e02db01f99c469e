// Binance parser speed on the real captures, single thread: ns per kline message, ns per skipped
// non-kline message, the capture mix as received, and a 1000-row REST klines body.
//   bench_parse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "binance/kline_parser.hpp"
#include "binance/rest.hpp"
#include "capture.hpp"

namespace {

using mdfeed::adapter::kParsePadding;
using mdfeed::binance::KlineMsg;
using mdfeed::binance::KlineParser;
using mdfeed::binance::MsgKind;

struct Ref {
  const char* data;
  std::size_t len;
  std::size_t capacity;
};

struct Corpus {
  std::vector<mdfeed::testing::Capture> captures;
  std::vector<Ref> klines, others, all;
  std::vector<std::vector<char>> spaced;  // non-klines with a leading space: no pre-filter
  std::vector<Ref> others_full;
};

Corpus load_corpus() {
  Corpus c;
  for (const char* f : mdfeed::testing::kCaptureFiles)
    c.captures.push_back(mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/" + f));
  KlineParser p;
  for (const auto& cap : c.captures) {
    for (std::size_t i = 0; i < cap.size(); ++i) {
      const Ref r{cap.data(i), cap.len(i), cap.capacity(i)};
      KlineMsg m;
      c.all.push_back(r);
      (p.parse(r.data, r.len, r.capacity, m) == MsgKind::kKline ? c.klines : c.others).push_back(r);
    }
  }
  for (const Ref& r : c.others) {
    std::vector<char> b(1 + r.len + kParsePadding, '\0');
    b[0] = ' ';
    std::copy(r.data, r.data + r.len, b.begin() + 1);
    c.spaced.push_back(std::move(b));
  }
  for (const auto& b : c.spaced) c.others_full.push_back({b.data(), b.size() - kParsePadding, b.size()});
  return c;
}

const Corpus& corpus() {
  static const Corpus c = load_corpus();
  return c;
}

// One message per iteration, cycling through the set: the iteration time is ns per message.
void run(benchmark::State& state, const std::vector<Ref>& msgs) {
  if (msgs.empty()) {
    state.SkipWithError("no messages (fixtures not found?)");
    return;
  }
  KlineParser p;
  KlineMsg m;
  std::size_t i = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const Ref& r = msgs[i];
    if (++i == msgs.size()) i = 0;
    MsgKind k = p.parse(r.data, r.len, r.capacity, m);
    benchmark::DoNotOptimize(k);
    benchmark::DoNotOptimize(m.bar);
    bytes += r.len;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["messages"] = static_cast<double>(msgs.size());
}

void BM_Kline(benchmark::State& state) { run(state, corpus().klines); }
void BM_SkipNonKline(benchmark::State& state) { run(state, corpus().others); }
// The 6544 non-kline messages span 1.8 MB, beyond L2; a session parses a message its TLS layer
// has just written, so also measure a working set that stays in L1.
void BM_SkipNonKlineHot(benchmark::State& state) {
  const auto& o = corpus().others;
  run(state, std::vector<Ref>(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(64, o.size()))));
}
void BM_CaptureMix(benchmark::State& state) { run(state, corpus().all); }
// What skipping would cost without the byte-scan pre-filter (full simdjson parse).
void BM_NonKlineFullParse(benchmark::State& state) { run(state, corpus().others_full); }

std::string rest_body(int rows) {
  std::string s = "[";
  for (int i = 0; i < rows; ++i) {
    if (i != 0) s += ',';
    const std::string t = std::to_string(1633998360000LL + 60'000LL * i);
    s += "[" + t + R"(,"0.35200000","0.35300000","0.35100000","0.35250000","1000.50000000",)" +
         std::to_string(1633998360000LL + 60'000LL * i + 59'999) +
         R"(,"352.70000000",12,"400.00000000","141.00000000","0"])";
  }
  return s + "]";
}

void BM_RestKlines1000(benchmark::State& state) {
  const std::string body = rest_body(1000);
  mdfeed::binance::RestParser p;
  std::vector<mdfeed::Bar> out;
  out.reserve(1000);
  for (auto _ : state) {
    auto r = p.parse_klines(body, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

BENCHMARK(BM_Kline);
BENCHMARK(BM_SkipNonKline);
BENCHMARK(BM_SkipNonKlineHot);
BENCHMARK(BM_CaptureMix);
BENCHMARK(BM_NonKlineFullParse);
BENCHMARK(BM_RestKlines1000);

}  // namespace

BENCHMARK_MAIN();
