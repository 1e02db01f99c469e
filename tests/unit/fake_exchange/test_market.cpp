// The fake exchange's ground truth: determinism, bar invariants, the "parse of the wire string
// equals truth bit for bit" property, forming -> final convergence, and wire formats.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mdfeed/names.hpp>
#include <string>
#include <vector>

#include "fake_exchange/market.hpp"

using namespace mdfeed;
using namespace mdfeed::fake;

namespace {

const std::vector<std::string> kSymbols = {"BTCUSDT", "ETHUSDT", "NKNUSDT", "LRCBTC",
                                           "A",       "Z9",      "X1Y2Z3",  "ABCDEFGHIJKLMNOPQRST"};

// 2023-11-14T00:00:00Z and a few other instants, including a leap-year February.
const std::vector<std::int64_t> kTimes = {1'699'920'000'000, 1'699'920'123'456, 1'709'164'800'000,
                                          1'704'067'199'999, 1'600'000'000'000, 86'400'000};

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

bool same_bar(const Bar& a, const Bar& b) { return std::memcmp(&a, &b, sizeof(Bar)) == 0; }

bool same_units(const BarUnits& a, const BarUnits& b) {
  return a.open_time_ms == b.open_time_ms && a.close_time_ms == b.close_time_ms &&
         a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close &&
         a.volume == b.volume && a.quote_volume == b.quote_volume &&
         a.taker_buy_volume == b.taker_buy_volume &&
         a.taker_buy_quote_volume == b.taker_buy_quote_volume && a.trades == b.trades &&
         a.first_trade_id == b.first_trade_id && a.last_trade_id == b.last_trade_id;
}

double strtod_of(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

double from_chars_of(std::string_view s) {
  double d = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  REQUIRE(r.ec == std::errc{});
  REQUIRE(r.ptr == s.data() + s.size());
  return d;
}

}  // namespace

TEST_CASE("truth_bar is a pure function of (symbol, interval, open)", "[fake][market]") {
  for (const auto& sym : kSymbols) {
    for (const auto& iv : kIntervals) {
      const std::int64_t open = bar_open_at(iv.name, kTimes[1]);
      const Bar a = truth_bar(sym, iv.name, open);
      const Bar b = truth_bar(sym, iv.name, open);
      CHECK(same_bar(a, b));
      CHECK(a.closed());
      CHECK(a.flags == kBarClosed);
      // A non-aligned time names the bar containing it.
      CHECK(same_bar(truth_bar(sym, iv.name, open + 1), a));
    }
  }
  // Different symbols and different bars differ.
  CHECK_FALSE(
      same_bar(truth_bar("BTCUSDT", "1m", kTimes[0]), truth_bar("ETHUSDT", "1m", kTimes[0])));
  CHECK_FALSE(same_bar(truth_bar("BTCUSDT", "1m", kTimes[0]),
                       truth_bar("BTCUSDT", "1m", kTimes[0] + 60'000)));
}

TEST_CASE("truth bars satisfy OHLCV invariants and chain into each other", "[fake][market]") {
  for (const auto& sym : kSymbols) {
    for (const auto& iv : kIntervals) {
      for (std::int64_t t : kTimes) {
        std::int64_t open = bar_open_at(iv.name, t);
        for (int i = 0; i < 5; ++i) {
          INFO(sym << " " << iv.name << " open=" << open);
          const BarUnits b = truth_units(sym, iv.name, open);
          const std::int64_t next = next_open_ms(iv.name, open);
          const BarUnits n = truth_units(sym, iv.name, next);
          CHECK(b.open_time_ms == open);
          CHECK(b.close_time_ms == next - 1);
          CHECK(b.low > 0);
          CHECK(b.low <= std::min(b.open, b.close));
          CHECK(std::max(b.open, b.close) <= b.high);
          CHECK(b.volume > 0);
          CHECK(b.quote_volume > 0);
          CHECK(b.taker_buy_volume >= 0);
          CHECK(b.taker_buy_volume <= b.volume);
          CHECK(b.taker_buy_quote_volume >= 0);
          CHECK(b.taker_buy_quote_volume <= b.quote_volume);
          CHECK(b.trades > 0);
          CHECK(b.last_trade_id == b.first_trade_id + static_cast<std::int64_t>(b.trades) - 1);
          CHECK(b.last_trade_id < n.first_trade_id);
          // The price path is continuous: each bar opens where the previous closed.
          CHECK(n.open == b.close);
          // Quote volume is volume times a price inside the bar's range.
          const double v = static_cast<double>(b.volume) / 1e8;
          const double q = static_cast<double>(b.quote_volume) / 1e8;
          CHECK(q >= v * static_cast<double>(b.low) / 1e8 * (1 - 1e-9) - 1e-8);
          CHECK(q <= v * static_cast<double>(b.high) / 1e8 * (1 + 1e-9) + 1e-8);
          open = next;
        }
      }
    }
  }
}

TEST_CASE("bars of different intervals agree on shared boundaries", "[fake][market]") {
  const std::int64_t hour = bar_open_at("1h", kTimes[1]);
  const BarUnits h = truth_units("BTCUSDT", "1h", hour);
  const BarUnits first = truth_units("BTCUSDT", "1m", hour);
  const BarUnits last = truth_units("BTCUSDT", "1m", hour + 59 * 60'000);
  CHECK(h.open == first.open);
  CHECK(h.close == last.close);
}

TEST_CASE("format_units prints exactly 8 decimals", "[fake][market]") {
  CHECK(format_units(4'301'257'000'000) == "43012.57000000");
  CHECK(format_units(0) == "0.00000000");
  CHECK(format_units(1) == "0.00000001");
  CHECK(format_units(638) == "0.00000638");
  CHECK(format_units(100'000'000) == "1.00000000");
  CHECK(format_units(123'456'789'012'345'678) == "1234567890.12345678");
  CHECK(format_units(-150'000'000) == "-1.50000000");
  CHECK(format_units(INT64_MIN) == "-92233720368.54775808");
}

TEST_CASE("parsing the wire strings reproduces truth_bar bit for bit", "[fake][market]") {
  for (const auto& sym : kSymbols) {
    for (const auto& iv : kIntervals) {
      for (std::int64_t t : kTimes) {
        const std::int64_t open = bar_open_at(iv.name, t);
        const BarUnits u = truth_units(sym, iv.name, open);
        const KlineStrings s = format_bar(u);
        const Bar b = truth_bar(sym, iv.name, open);
        INFO(sym << " " << iv.name << " open=" << open);
        // Both standard correctly-rounded parsers agree with the truth's doubles.
        auto check_with = [&](auto parse) {
          CHECK(same_bits(parse(s.open), b.open));
          CHECK(same_bits(parse(s.high), b.high));
          CHECK(same_bits(parse(s.low), b.low));
          CHECK(same_bits(parse(s.close), b.close));
          CHECK(same_bits(parse(s.volume), b.volume));
          CHECK(same_bits(parse(s.quote_volume), b.quote_volume));
          CHECK(same_bits(parse(s.taker_buy_volume), b.taker_buy_volume));
          CHECK(same_bits(parse(s.taker_buy_quote_volume), b.taker_buy_quote_volume));
        };
        check_with(strtod_of);
        check_with([](const std::string& str) { return from_chars_of(str); });
        CHECK(b.trades == u.trades);
        CHECK(b.open_time_ms == u.open_time_ms);
        CHECK(b.close_time_ms == u.close_time_ms);
      }
    }
  }
}

TEST_CASE("a client parsing the kline JSON gets truth_bar exactly", "[fake][market]") {
  simdjson::dom::parser parser;
  for (const auto& sym : kSymbols) {
    const std::int64_t open = bar_open_at("5m", kTimes[1]);
    const BarUnits u = truth_units(sym, "5m", open);
    const std::string msg = kline_message(sym, "5m", open + 300'123, u, true);
    simdjson::dom::element doc;
    REQUIRE(parser.parse(msg).get(doc) == simdjson::SUCCESS);
    std::string_view stream;
    REQUIRE(doc["stream"].get(stream) == simdjson::SUCCESS);
    CHECK(stream == kline_stream_name(sym, "5m"));
    simdjson::dom::element k = doc["data"]["k"];
    auto dbl = [&](const char* key) {
      std::string_view sv;
      REQUIRE(k[key].get(sv) == simdjson::SUCCESS);
      return from_chars_of(sv);
    };
    const Bar b = truth_bar(sym, "5m", open);
    CHECK(same_bits(dbl("o"), b.open));
    CHECK(same_bits(dbl("h"), b.high));
    CHECK(same_bits(dbl("l"), b.low));
    CHECK(same_bits(dbl("c"), b.close));
    CHECK(same_bits(dbl("v"), b.volume));
    CHECK(same_bits(dbl("q"), b.quote_volume));
    CHECK(same_bits(dbl("V"), b.taker_buy_volume));
    CHECK(same_bits(dbl("Q"), b.taker_buy_quote_volume));
    CHECK(std::uint64_t(k["n"]) == b.trades);
    CHECK(std::int64_t(k["t"]) == b.open_time_ms);
    CHECK(std::int64_t(k["T"]) == b.close_time_ms);
    CHECK(bool(k["x"]) == true);
    CHECK(std::int64_t(doc["data"]["E"]) == open + 300'123);
  }
}

TEST_CASE("forming bars grow monotonically and converge on the truth at T", "[fake][market]") {
  for (const auto& sym : kSymbols) {
    for (const char* iv : {"1s", "1m", "15m", "1h", "1d", "1M"}) {
      const std::int64_t open = bar_open_at(iv, kTimes[0] + 7);
      const BarUnits truth = truth_units(sym, iv, open);
      const std::int64_t len = truth.close_time_ms + 1 - open;
      BarUnits prev = forming_units(sym, iv, open, open - 1);
      INFO(sym << " " << iv);
      for (int step = 0; step <= 64; ++step) {
        const std::int64_t now = open + len * step / 64;
        const BarUnits f = forming_units(sym, iv, open, now);
        CHECK(f.open == truth.open);
        CHECK(f.open_time_ms == truth.open_time_ms);
        CHECK(f.close_time_ms == truth.close_time_ms);
        CHECK(f.low <= std::min(f.open, f.close));
        CHECK(std::max(f.open, f.close) <= f.high);
        CHECK(f.high >= prev.high);
        CHECK(f.low <= prev.low);
        CHECK(f.high <= truth.high);
        CHECK(f.low >= truth.low);
        CHECK(f.volume >= prev.volume);
        CHECK(f.volume > 0);
        CHECK(f.quote_volume >= prev.quote_volume);
        CHECK(f.taker_buy_volume >= prev.taker_buy_volume);
        CHECK(f.taker_buy_quote_volume >= prev.taker_buy_quote_volume);
        CHECK(f.trades >= prev.trades);
        CHECK(f.trades > 0);
        CHECK(f.last_trade_id == f.first_trade_id + static_cast<std::int64_t>(f.trades) - 1);
        prev = f;
      }
      CHECK(same_units(forming_units(sym, iv, open, truth.close_time_ms), truth));
      CHECK(same_units(forming_units(sym, iv, open, truth.close_time_ms + 12'345), truth));
      CHECK_FALSE(same_units(forming_units(sym, iv, open, truth.close_time_ms - len / 2), truth));
      Bar fb = forming_bar(sym, iv, open, truth.close_time_ms);
      CHECK(fb.flags == 0);
      fb.flags = kBarClosed;
      CHECK(same_bar(fb, truth_bar(sym, iv, open)));
    }
  }
}

TEST_CASE("calendar: 1M bars follow months, 1w bars open on Monday", "[fake][market]") {
  // 2024-01-15T12:00:00Z
  const std::int64_t jan15 = 1'705'320'000'000;
  const std::int64_t jan1 = 1'704'067'200'000;
  const std::int64_t feb1 = 1'706'745'600'000;
  const std::int64_t mar1 = 1'709'251'200'000;  // 2024 is a leap year: Feb has 29 days
  CHECK(bar_open_at("1M", jan15) == jan1);
  CHECK(bar_open_at("1M", jan1) == jan1);
  CHECK(bar_open_at("1M", feb1 - 1) == jan1);
  CHECK(next_open_ms("1M", jan1) == feb1);
  CHECK(next_open_ms("1M", feb1) == mar1);
  CHECK(bar_close_time("1M", feb1) == mar1 - 1);
  CHECK(mar1 - feb1 == 29LL * 86'400'000);
  // December rolls into January of the next year.
  const std::int64_t dec1_2023 = 1'701'388'800'000;
  CHECK(next_open_ms("1M", dec1_2023) == jan1);
  const BarUnits m = truth_units("BTCUSDT", "1M", jan15);
  CHECK(m.open_time_ms == jan1);
  CHECK(m.close_time_ms == feb1 - 1);
  CHECK(truth_units("BTCUSDT", "1M", feb1).open == m.close);

  // 2023-11-14 is a Tuesday; its week opened Monday 2023-11-13.
  CHECK(bar_open_at("1w", 1'699'920'000'000) == 1'699'833'600'000);
  CHECK(bar_open_at("1d", 1'699'920'000'000 + 5) == 1'699'920'000'000);
  CHECK(bar_open_at("1m", -1) == -60'000);
  CHECK(bar_close_time("1m", 1'699'920'000'000) == 1'699'920'059'999);
}

TEST_CASE("stream names and the exact kline and REST wire shapes", "[fake][market]") {
  CHECK(kline_stream_name("BTCUSDT", "1m") == "btcusdt@kline_1m");
  CHECK(kline_stream_name("BTCUSDT", "1M") == "btcusdt@kline_1M");

  BarUnits b;
  b.open_time_ms = 1'699'920'000'000;
  b.close_time_ms = 1'699'920'059'999;
  b.open = 4'301'257'000'000;
  b.high = 4'302'000'000'000;
  b.low = 4'300'000'000'000;
  b.close = 4'301'000'000'000;
  b.volume = 1'234'500'000;
  b.quote_volume = 53'098'765'432'100;
  b.taker_buy_volume = 600'000'000;
  b.taker_buy_quote_volume = 25'806'000'000'000;
  b.trades = 42;
  b.first_trade_id = 100;
  b.last_trade_id = 141;

  CHECK(rest_row(b) ==
        R"([1699920000000,"43012.57000000","43020.00000000","43000.00000000","43010.00000000",)"
        R"("12.34500000",1699920059999,"530987.65432100",42,"6.00000000","258060.00000000","0"])");
  CHECK(kline_message("BTCUSDT", "1m", 1'699'920'030'000, b, false) ==
        R"({"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1699920030000,"s":"BTCUSDT",)"
        R"("k":{"t":1699920000000,"T":1699920059999,"s":"BTCUSDT","i":"1m","f":100,"L":141,)"
        R"("o":"43012.57000000","c":"43010.00000000","h":"43020.00000000","l":"43000.00000000",)"
        R"("v":"12.34500000","n":42,"x":false,"q":"530987.65432100","V":"6.00000000",)"
        R"("Q":"258060.00000000","B":"0"}}})");
  CHECK(kline_event("BTCUSDT", "1m", 1, b, true).find(R"("x":true)") != std::string::npos);
  CHECK(kline_event("BTCUSDT", "1m", 1, b, true).rfind(R"({"e":"kline","E":1,)", 0) == 0);
}

TEST_CASE("an unknown interval yields an empty bar instead of crashing", "[fake][market]") {
  CHECK_FALSE(valid_interval("7m"));
  const BarUnits b = truth_units("BTCUSDT", "7m", 1'699'920'000'000);
  CHECK(b.trades == 0);
  CHECK(b.volume == 0);
  CHECK(forming_units("BTCUSDT", "7m", 1'699'920'000'000, 1'699'920'000'001).trades == 0);
}
