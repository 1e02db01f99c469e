// Binance parser speed on the real captures, single thread: ns per kline message, ns per skipped
// non-kline message, the capture mix as received, and a 1000-row REST klines body.
//   bench_parse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "binance/kline_parser.hpp"
#include "binance/rest.hpp"
#include "capture.hpp"

namespace {

using mdfeed::venue::kParsePadding;
using mdfeed::binance::KlineMsg;
using mdfeed::binance::KlineParser;
using mdfeed::binance::MsgKind;

struct Ref {
  const char* data;
  std::size_t len;
  std::size_t capacity;
};

// A set of messages packed back to back, each followed by the parser's padding. Packing keeps
// the kline set (107 messages, ~50 KB) cache-resident like a just-received frame, instead of
// scattered over the 1.8 MB of captures.
struct MessageSet {
  std::vector<char> arena;
  std::vector<Ref> refs;

  void add(std::string_view msg, std::string_view prefix = {}) {
    offsets.push_back(arena.size());
    arena.insert(arena.end(), prefix.begin(), prefix.end());
    arena.insert(arena.end(), msg.begin(), msg.end());
    lens.push_back(prefix.size() + msg.size());
    arena.insert(arena.end(), kParsePadding, '\0');
  }
  void seal() {  // pointers only once the arena stops growing
    for (std::size_t i = 0; i < offsets.size(); ++i)
      refs.push_back({arena.data() + offsets[i], lens[i], lens[i] + kParsePadding});
  }

 private:
  std::vector<std::size_t> offsets, lens;
};

struct Corpus {
  MessageSet klines, others, all;
  MessageSet others_full;  // non-klines behind a leading space: no byte-scan pre-filter
};

Corpus load_corpus() {
  Corpus c;
  KlineParser p;
  for (const char* f : mdfeed::testing::kCaptureFiles) {
    const auto cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/" + f);
    for (std::size_t i = 0; i < cap.size(); ++i) {
      KlineMsg m;
      const bool kline = p.parse(cap.data(i), cap.len(i), cap.capacity(i), m) == MsgKind::kKline;
      (kline ? c.klines : c.others).add(cap.text(i));
      if (!kline) c.others_full.add(cap.text(i), " ");
      c.all.add(cap.text(i));
    }
  }
  for (MessageSet* s : {&c.klines, &c.others, &c.all, &c.others_full}) s->seal();
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

void BM_Kline(benchmark::State& state) { run(state, corpus().klines.refs); }
void BM_SkipNonKline(benchmark::State& state) { run(state, corpus().others.refs); }
// The 6544 non-kline messages span 1.8 MB, beyond L2; a session parses a message its TLS layer
// has just written, so also measure a working set that stays in L1.
void BM_SkipNonKlineHot(benchmark::State& state) {
  const auto& o = corpus().others.refs;
  run(state, std::vector<Ref>(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(64, o.size()))));
}
void BM_CaptureMix(benchmark::State& state) { run(state, corpus().all.refs); }
// What skipping would cost without the byte-scan pre-filter (full simdjson parse).
void BM_NonKlineFullParse(benchmark::State& state) { run(state, corpus().others_full.refs); }

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
