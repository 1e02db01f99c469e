// Parser speed, single thread. Binance's parser on the real captures: ns per kline message, ns
// per skipped non-kline message, the capture mix as received, and a 1000-row REST klines body.
// Every venue through its WsProtocol (venue::find(name)->make_ws(), the virtual call the daemon
// makes per message): ns per kline message on real captures (Binance spot, USD-M) or on the
// venue's documented push example plus realistic variations of it (OKX, Bybit), and ns per
// skipped non-kline message on the real OKX capture (books, trades, tickers).
//   bench_parse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "binance/kline_parser.hpp"
#include "binance/rest.hpp"
#include "capture.hpp"
#include "venue/venue.hpp"

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

// ---- Every venue through its WsProtocol ---------------------------------------------------------

using mdfeed::venue::Event;
using mdfeed::venue::EventKind;
using mdfeed::venue::WsProtocol;

constexpr std::size_t kMaxMessageBytes = 1u << 20;  // the config's max_message_bytes default

std::unique_ptr<WsProtocol> make_ws(const char* venue) {
  const mdfeed::venue::Spec* spec = mdfeed::venue::find(venue);
  if (spec == nullptr) throw std::runtime_error(std::string("no venue ") + venue);
  return spec->make_ws(kMaxMessageBytes);
}

// The messages of capture files that `venue`'s protocol reports as `kind`.
MessageSet from_captures(const char* venue, std::initializer_list<const char*> files,
                         EventKind kind) {
  MessageSet set;
  const auto ws = make_ws(venue);
  for (const char* f : files) {
    const auto cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/" + f);
    for (std::size_t i = 0; i < cap.size(); ++i)
      if (ws->parse(cap.data(i), cap.len(i), cap.capacity(i)).kind == kind) set.add(cap.text(i));
  }
  set.seal();
  return set;
}

// A decimal string like the venues send: fixed decimals, trailing zeros trimmed ("16677",
// "8533.02", "0.00000638").
std::string dec(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// Deterministic variations of a documented push: several instruments (price levels and decimals
// as the venues quote them), three intervals, a random walk of prices and volumes, one update in
// ten closing its bar.
struct Instrument {
  const char* symbol;
  double price;
  int price_decimals;
  int volume_decimals;
};

struct Walk {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  double next() {  // uniform in [0, 1)
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
  }
};

constexpr int kVariations = 64;

struct Candle {
  std::int64_t open_ms, close_ms, event_ms;
  std::string o, h, l, c, vol, quote;
  bool closed;
};

template <class Emit>
void variations(const Instrument* inst, std::size_t n_inst, const std::int64_t (&interval_ms)[3],
                Emit emit) {
  Walk w;
  const std::int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < kVariations; ++i) {
    const Instrument& in = inst[static_cast<std::size_t>(i) % n_inst];
    const int iv = (i / static_cast<int>(n_inst)) % 3;
    const std::int64_t ms = interval_ms[iv];
    const double open = in.price * (1 + (w.next() - 0.5) * 0.02);
    const double close = open * (1 + (w.next() - 0.5) * 0.004);
    const double high = std::max(open, close) * (1 + w.next() * 0.002);
    const double low = std::min(open, close) * (1 - w.next() * 0.002);
    const double vol = 1 + w.next() * 5000;
    Candle c;
    c.open_ms = t0 - t0 % ms + ms * i;
    c.close_ms = c.open_ms + ms - 1;
    c.event_ms = c.open_ms + static_cast<std::int64_t>(w.next() * static_cast<double>(ms - 1));
    c.o = dec(open, in.price_decimals);
    c.h = dec(high, in.price_decimals);
    c.l = dec(low, in.price_decimals);
    c.c = dec(close, in.price_decimals);
    c.vol = dec(vol, in.volume_decimals);
    c.quote = dec(vol * close, 4);
    c.closed = i % 10 == 9;
    emit(in, iv, c);
  }
}

// OKX v5 docs, "WS / Candlesticks channel", push data example (as in daemon/okx/test; its
// channel candle1D is Hong Kong time, which mdfeed ignores, so here candle1Dutc, which it
// serves), then variations: spot and swap instruments, candle1m/5m/1H.
MessageSet okx_documented() {
  MessageSet set;
  set.add(R"({"arg":{"channel":"candle1Dutc","instId":"BTC-USDT"},"data":[["1597026383085","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","529.5858061","0"]]})");
  static const Instrument inst[] = {{"BTC-USDT", 90000, 1, 8},     {"ETH-USDT", 3000, 2, 6},
                                    {"BTC-USDT-SWAP", 90000, 1, 2}, {"SOL-USDT", 150, 3, 4},
                                    {"DOGE-USDT", 0.1, 5, 2},      {"ETH-USDT-SWAP", 3000, 2, 1}};
  static const char* const channel[] = {"candle1m", "candle5m", "candle1H"};
  static const std::int64_t ms[] = {60'000, 300'000, 3'600'000};
  variations(inst, std::size(inst), ms, [&](const Instrument& in, int iv, const Candle& c) {
    // [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]
    set.add(std::string(R"({"arg":{"channel":")") + channel[iv] + R"(","instId":")" + in.symbol +
            R"("},"data":[[")" + std::to_string(c.open_ms) + R"(",")" + c.o + R"(",")" + c.h +
            R"(",")" + c.l + R"(",")" + c.c + R"(",")" + c.vol + R"(",")" + c.vol + R"(",")" +
            c.quote + R"(",")" + (c.closed ? "1" : "0") + R"("]]})");
  });
  set.seal();
  return set;
}

// Bybit v5 docs, websocket/public/kline, "Response Example" (as in daemon/bybit/test), then
// variations: kline.1/5/60 on spot-style symbols.
MessageSet bybit_documented() {
  MessageSet set;
  set.add(R"({"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,)"
          R"("interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608",)"
          R"("volume":"2.081","turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],)"
          R"("ts":1672324988882,"type":"snapshot"})");
  static const Instrument inst[] = {{"BTCUSDT", 90000, 1, 6}, {"ETHUSDT", 3000, 2, 5},
                                    {"SOLUSDT", 150, 3, 3},   {"DOGEUSDT", 0.1, 5, 1},
                                    {"XRPUSDT", 0.6, 4, 2}};
  static const char* const interval[] = {"1", "5", "60"};
  static const std::int64_t ms[] = {60'000, 300'000, 3'600'000};
  variations(inst, std::size(inst), ms, [&](const Instrument& in, int iv, const Candle& c) {
    const std::string ts = std::to_string(c.event_ms);
    set.add(std::string(R"({"topic":"kline.)") + interval[iv] + "." + in.symbol +
            R"(","data":[{"start":)" + std::to_string(c.open_ms) + R"(,"end":)" +
            std::to_string(c.close_ms) + R"(,"interval":")" + interval[iv] + R"(","open":")" +
            c.o + R"(","close":")" + c.c + R"(","high":")" + c.h + R"(","low":")" + c.l +
            R"(","volume":")" + c.vol + R"(","turnover":")" + c.quote + R"(","confirm":)" +
            (c.closed ? "true" : "false") + R"(,"timestamp":)" + ts + R"(}],"ts":)" + ts +
            R"(,"type":"snapshot"})");
  });
  set.seal();
  return set;
}

struct VenueCorpus {
  MessageSet binance_spot, binance_all, usdm, okx, okx_skip, bybit;
};

const VenueCorpus& venue_corpus() {
  static const VenueCorpus c = [] {
    VenueCorpus v;
    v.binance_spot = from_captures("binance", {"binance/BINANCE.ws.1.0"}, EventKind::kKline);
    v.binance_all = from_captures("binance",
                                  {"binance/BINANCE.ws.1.0", "binance/BINANCE_US.ws.1.0",
                                   "binance/BINANCE_FUTURES.ws.1.0", "binance/BINANCE_DELIVERY.ws.1.0"},
                                  EventKind::kKline);
    v.usdm = from_captures("binance-usdm", {"binance/BINANCE_FUTURES.ws.1.0"}, EventKind::kKline);
    v.okx = okx_documented();
    v.okx_skip = from_captures("okx", {"okx/OKX.ws.1.0"}, EventKind::kIgnored);
    v.bybit = bybit_documented();
    return v;
  }();
  return c;
}

// One message per iteration through the venue's WsProtocol (a virtual call, as in the daemon).
// Every message must come back as `want`, or the row reports an error instead of a figure.
void run_venue(benchmark::State& state, const char* venue, const MessageSet& set, EventKind want) {
  const std::vector<Ref>& msgs = set.refs;
  if (msgs.empty()) {
    state.SkipWithError("no messages (fixtures not found?)");
    return;
  }
  std::unique_ptr<WsProtocol> ws = make_ws(venue);
  for (const Ref& r : msgs) {
    const Event e = ws->parse(r.data, r.len, r.capacity);
    if (e.kind != want) {
      state.SkipWithError((std::string(venue) + ": a message parsed as " +
                           mdfeed::venue::to_string(e.kind) + " " + ws->last_error() + ": " +
                           std::string(r.data, std::min<std::size_t>(r.len, 200)))
                              .c_str());
      return;
    }
  }
  std::size_t i = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const Ref& r = msgs[i];
    if (++i == msgs.size()) i = 0;
    Event e = ws->parse(r.data, r.len, r.capacity);
    benchmark::DoNotOptimize(e);
    bytes += r.len;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["messages"] = static_cast<double>(msgs.size());
  state.counters["avg_bytes"] = static_cast<double>(
      [&] { std::size_t b = 0; for (const Ref& r : msgs) b += r.len; return b; }()) /
      static_cast<double>(msgs.size());
}

void BM_Venue_binance_spot_capture(benchmark::State& s) {
  run_venue(s, "binance", venue_corpus().binance_spot, EventKind::kKline);
}
void BM_Venue_binance_all_captures(benchmark::State& s) {
  run_venue(s, "binance", venue_corpus().binance_all, EventKind::kKline);
}
void BM_Venue_binance_usdm_capture(benchmark::State& s) {
  run_venue(s, "binance-usdm", venue_corpus().usdm, EventKind::kKline);
}
void BM_Venue_okx_documented(benchmark::State& s) {
  run_venue(s, "okx", venue_corpus().okx, EventKind::kKline);
}
void BM_Venue_bybit_spot_documented(benchmark::State& s) {
  run_venue(s, "bybit-spot", venue_corpus().bybit, EventKind::kKline);
}
void BM_Venue_bybit_linear_documented(benchmark::State& s) {
  run_venue(s, "bybit-linear", venue_corpus().bybit, EventKind::kKline);
}
void BM_Venue_okx_skip_capture(benchmark::State& s) {
  run_venue(s, "okx", venue_corpus().okx_skip, EventKind::kIgnored);
}

BENCHMARK(BM_Kline);
BENCHMARK(BM_SkipNonKline);
BENCHMARK(BM_SkipNonKlineHot);
BENCHMARK(BM_CaptureMix);
BENCHMARK(BM_NonKlineFullParse);
BENCHMARK(BM_RestKlines1000);
BENCHMARK(BM_Venue_binance_spot_capture);
BENCHMARK(BM_Venue_binance_all_captures);
BENCHMARK(BM_Venue_binance_usdm_capture);
BENCHMARK(BM_Venue_okx_documented);
BENCHMARK(BM_Venue_bybit_spot_documented);
BENCHMARK(BM_Venue_bybit_linear_documented);
BENCHMARK(BM_Venue_okx_skip_capture);

}  // namespace

BENCHMARK_MAIN();
