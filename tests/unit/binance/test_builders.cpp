// Binance stream names, subscribe messages and limits, and the adapter registry.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "adapter/adapter.hpp"
#include "binance/streams.hpp"
#include "binance/venue.hpp"
#include "capture.hpp"

namespace {
using mdfeed::adapter::find_adapter;
using mdfeed::adapter::MsgKind;
}  // namespace

TEST_CASE("stream names and the combined path", "[binance][builders]") {
  using mdfeed::binance::stream_name;
  CHECK(stream_name("BTCUSDT", "1m") == "btcusdt@kline_1m");
  CHECK(stream_name("ETHUSD_210924", "1M") == "ethusd_210924@kline_1M");  // month keeps its case
  const std::vector<std::string> streams = {"btcusdt@kline_1m", "ethusdt@kline_5m", "bnbbtc@kline_1h"};
  CHECK(mdfeed::binance::combined_path(streams) ==
        "/stream?streams=btcusdt@kline_1m/ethusdt@kline_5m/bnbbtc@kline_1h");
  CHECK(mdfeed::binance::combined_path({"a@kline_1s"}) == "/stream?streams=a@kline_1s");
}

TEST_CASE("subscribe messages", "[binance][builders]") {
  using mdfeed::binance::subscribe_message;
  CHECK(subscribe_message("SUBSCRIBE", 1, {"btcusdt@kline_1m", "ethusdt@kline_1m"}) ==
        R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m","ethusdt@kline_1m"],"id":1})");
  CHECK(subscribe_message("UNSUBSCRIBE", 312, {"btcusdt@kline_1m"}) ==
        R"({"method":"UNSUBSCRIBE","params":["btcusdt@kline_1m"],"id":312})");
  CHECK(subscribe_message("SUBSCRIBE", 2, {}) == R"({"method":"SUBSCRIBE","params":[],"id":2})");
}

TEST_CASE("Binance spot limits", "[binance][builders]") {
  const auto& l = mdfeed::binance::kSpotLimits;
  CHECK(l.max_streams_per_connection == 1024);
  CHECK(l.max_control_msgs_per_s == 5);
  CHECK(l.max_connect_attempts == 300);
  CHECK(l.connect_window_ms == 300'000);
  CHECK(l.max_connection_age_ms == 86'400'000);
  CHECK(l.server_ping_interval_ms == 20'000);
  CHECK(l.pong_deadline_ms == 60'000);
  CHECK(l.rest_weight_per_minute == 6000);
  CHECK(l.max_klines_per_request == 1000);
  CHECK(l.klines_weight(1) == 2);
  CHECK(l.klines_weight(1000) == 2);
  CHECK(l.klines_weight(5000) == 2);
  CHECK(l.interval_count == 16);
  for (const char* i : {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                        "1d", "3d", "1w", "1M"})
    CHECK(l.valid_interval(i));
  CHECK_FALSE(l.valid_interval("2m"));
  CHECK_FALSE(l.valid_interval("1H"));
  CHECK_FALSE(l.valid_interval(""));
  // A futures-style step table, to pin klines_weight's semantics.
  mdfeed::adapter::VenueLimits f = l;
  f.klines_weight_steps = {{{99, 1}, {499, 2}, {1000, 5}, {1500, 10}}};
  CHECK(f.klines_weight(1) == 1);
  CHECK(f.klines_weight(100) == 2);
  CHECK(f.klines_weight(1000) == 5);
  CHECK(f.klines_weight(1500) == 10);
  CHECK(f.klines_weight(2000) == 10);
}

TEST_CASE("registry: binance is found and wired to this folder", "[binance][adapter]") {
  const mdfeed::adapter::Adapter* a = find_adapter("binance");
  REQUIRE(a != nullptr);
  CHECK(find_adapter("okx") == nullptr);
  CHECK(find_adapter("") == nullptr);
  CHECK(find_adapter("Binance") == nullptr);
  const auto [list, n] = mdfeed::adapter::all_adapters();
  REQUIRE(n == 1);
  CHECK(list[0] == a);

  CHECK(a->name == "binance");
  CHECK(a->default_ws_url == "wss://stream.binance.com:9443");
  CHECK(a->default_rest_url == "https://api.binance.com");
  CHECK(a->limits->max_streams_per_connection == 1024);
  CHECK(a->stream_name("BTCUSDT", "1m") == "btcusdt@kline_1m");
  CHECK(a->combined_path({"x@kline_1m"}) == "/stream?streams=x@kline_1m");
  CHECK(a->subscribe_message("SUBSCRIBE", 3, {"x@kline_1m"}) ==
        R"({"method":"SUBSCRIBE","params":["x@kline_1m"],"id":3})");
  CHECK(a->klines_target("BTCUSDT", "1m", 1, 2, 10) ==
        "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1&endTime=2&limit=10");
  CHECK(a->server_time_target == "/api/v3/time");
  CHECK(a->parse_server_time(R"({"serverTime":5})") == 5);
  std::vector<mdfeed::Bar> bars;
  CHECK(a->parse_klines(R"({"code":-1121,"msg":"Invalid symbol."})", bars).status ==
        mdfeed::adapter::RestStatus::kInvalidSymbol);
}

TEST_CASE("the adapter's parser handle parses a capture", "[binance][adapter]") {
  const mdfeed::adapter::Adapter* a = find_adapter("binance");
  REQUIRE(a != nullptr);
  mdfeed::adapter::MessageParser p = a->make_parser(1 << 16);
  REQUIRE(p);
  const auto cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() +
                                                 "/binance/BINANCE_US.ws.1.0");
  std::size_t klines = 0;
  for (std::size_t i = 0; i < cap.size(); ++i) {
    mdfeed::adapter::KlineMsg m;
    const MsgKind k = p.parse(cap.data(i), cap.len(i), cap.capacity(i), m);
    REQUIRE((k == MsgKind::kKline || k == MsgKind::kNotKline));
    if (k == MsgKind::kKline) ++klines;
  }
  CHECK(klines == 5);
  mdfeed::adapter::KlineMsg m;
  std::vector<char> buf(1 + mdfeed::adapter::kParsePadding, '\0');
  buf[0] = '{';
  CHECK(p.parse(buf.data(), 1, buf.size(), m) == MsgKind::kError);
  CHECK(std::string(p.last_error()).size() > 0);
  CHECK_FALSE(mdfeed::adapter::MessageParser{});
}
