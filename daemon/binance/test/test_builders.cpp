// Binance stream names, subscribe messages, the two specs (spot, USD-M) and the registry.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "binance/spec.hpp"
#include "binance/streams.hpp"
#include "venue/venue.hpp"
#include "capture.hpp"

namespace {
using mdfeed::binance::MsgKind;
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

TEST_CASE("Binance spot and USD-M specs", "[binance][builders]") {
  const auto& spot = mdfeed::binance::kSpotSpec;
  const auto& l = spot.limits;
  CHECK(l.max_streams_per_connection == 1024);
  CHECK(l.max_control_msgs_per_s == 5);
  CHECK(l.default_control_msgs_per_s < l.max_control_msgs_per_s);  // room for a pong
  CHECK(l.max_connect_attempts == 300);
  CHECK(l.connect_window_ms == 300'000);
  CHECK(l.connection_lifetime_ms == 86'400'000);
  CHECK(l.heartbeat_ms == 0);
  CHECK(l.rest_budget == 6000);
  CHECK(l.rest_window_ms == 60'000);
  CHECK(l.max_klines_per_request == 1000);
  CHECK(spot.interval_count == 16);
  for (const char* i : {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                        "1d", "3d", "1w", "1M"})
    CHECK(spot.venue_interval(i) == std::optional<std::string_view>(i));
  CHECK_FALSE(spot.venue_interval("2m"));
  CHECK_FALSE(spot.venue_interval("1H"));
  CHECK_FALSE(spot.venue_interval(""));

  const auto& usdm = mdfeed::binance::kUsdmSpec;
  CHECK(usdm.name == "binance-usdm");
  CHECK(usdm.default_ws_url == "wss://fstream.binance.com");
  CHECK(usdm.default_rest_url == "https://fapi.binance.com");
  CHECK(usdm.limits.max_streams_per_connection == 200);
  CHECK(usdm.limits.max_control_msgs_per_s == 10);
  CHECK(usdm.limits.max_klines_per_request == 1500);
  CHECK(usdm.limits.rest_budget == 2400);
  CHECK_FALSE(usdm.venue_interval("1s"));  // futures have no 1s bars
  CHECK(usdm.interval_list() == "1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M");
  // Weight steps with the limit (USD-M "Kline/Candlestick Data").
  using mdfeed::binance::usdm_klines_weight;
  CHECK(usdm_klines_weight(1) == 1);
  CHECK(usdm_klines_weight(99) == 1);
  CHECK(usdm_klines_weight(100) == 2);
  CHECK(usdm_klines_weight(499) == 2);
  CHECK(usdm_klines_weight(500) == 5);
  CHECK(usdm_klines_weight(1000) == 5);
  CHECK(usdm_klines_weight(1500) == 10);
  const auto r = usdm.rest.klines_request("BTCUSDT", "1m", 1, 2, 1500, 0);
  CHECK(r.target == "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1&endTime=2&limit=1500");
  CHECK(r.cost == 10);
  CHECK(usdm.rest.server_time_target == "/fapi/v1/time");
}

TEST_CASE("registry: venues are found by name, once each", "[binance][venue]") {
  const mdfeed::venue::Spec* a = mdfeed::venue::find("binance");
  REQUIRE(a == &mdfeed::binance::kSpotSpec);
  CHECK(mdfeed::venue::find("binance-usdm") == &mdfeed::binance::kUsdmSpec);
  CHECK(mdfeed::venue::find("") == nullptr);
  CHECK(mdfeed::venue::find("Binance") == nullptr);
  std::vector<std::string_view> names;
  for (const auto* v : mdfeed::venue::all()) names.push_back(v->name);
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = i + 1; j < names.size(); ++j) CHECK(names[i] != names[j]);
  CHECK(mdfeed::venue::name_list().find("binance binance-usdm") == 0);

  CHECK(a->default_ws_url == "wss://stream.binance.com:9443");
  CHECK(a->default_rest_url == "https://api.binance.com");
  const auto r = a->rest.klines_request("BTCUSDT", "1m", 1, 2, 10, 0);
  CHECK(r.target == "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1&endTime=2&limit=10");
  CHECK(r.cost == 2);
  CHECK(r.order == mdfeed::venue::Paging::kOldestFirst);
  CHECK(a->rest.server_time_target == "/api/v3/time");
  CHECK(a->rest.parse_server_time(R"({"serverTime":5})") == 5);
}

TEST_CASE("REST answers are classified", "[binance][venue]") {
  using mdfeed::venue::RestVerdict;
  const auto& rest = mdfeed::binance::kSpotSpec.rest;
  mdfeed::venue::HttpAnswer a;
  a.status = 200;
  a.body = "[]";
  CHECK(rest.classify(a).verdict == RestVerdict::kOk);
  a.status = 429;
  a.retry_after = "7";
  auto o = rest.classify(a);
  CHECK(o.verdict == RestVerdict::kRetryAfter);
  CHECK(o.wait_ms == 7000);
  a.status = 418;
  a.retry_after = "120";
  o = rest.classify(a);
  CHECK(o.verdict == RestVerdict::kBanned);
  CHECK(o.wait_ms == 120'000);
  a.status = 400;
  a.retry_after = "";
  a.body = R"({"code":-1121,"msg":"Invalid symbol."})";
  o = rest.classify(a);
  CHECK(o.verdict == RestVerdict::kInvalidSymbol);
  CHECK(o.code == -1121);
  CHECK(o.message == "Invalid symbol.");
  a.body = R"({"code":-1100,"msg":"Illegal characters"})";
  CHECK(rest.classify(a).verdict == RestVerdict::kVenueError);
  a.status = 502;
  a.body = "<html>bad gateway</html>";
  o = rest.classify(a);
  CHECK(o.verdict == RestVerdict::kMalformed);
  CHECK(o.message == "HTTP 502");
  std::vector<mdfeed::Bar> bars;
  CHECK(rest.parse_klines("[[1,\"1\",\"2\",\"0.5\",\"1.5\",\"10\",59999,\"15\",3,\"4\",\"6\",\"0\"]]", "BTCUSDT", "1m", bars).ok());
  CHECK(bars.size() == 1);
}

TEST_CASE("the WebSocket protocol object parses a capture and builds frames", "[binance][venue]") {
  for (const auto* spec : {&mdfeed::binance::kSpotSpec, &mdfeed::binance::kUsdmSpec}) {
    auto ws = spec->make_ws(1 << 16);
    REQUIRE(ws);
    CHECK(ws->kline_topic("BTCUSDT", "1m") == "btcusdt@kline_1m");
    CHECK_FALSE(ws->heartbeat(1'000'000, 0, 20'000));  // the server pings us
    std::int64_t id = 1;
    std::vector<std::string> topics;
    for (int i = 0; i < 150; ++i) topics.push_back("s" + std::to_string(i) + "@kline_1m");
    const auto frames = ws->control_frames(topics, true, id);
    CHECK(frames.size() == (150 + spec->limits.max_topics_per_request - 1) / spec->limits.max_topics_per_request);
    CHECK(frames[0].rfind(R"({"method":"SUBSCRIBE","params":["s0@kline_1m",)", 0) == 0);
    CHECK(id == 1 + static_cast<std::int64_t>(frames.size()));
    const auto un = ws->control_frames({"x@kline_1m"}, false, id);
    REQUIRE(un.size() == 1);
    CHECK(un[0].find("UNSUBSCRIBE") != std::string::npos);
    std::size_t in_url = 0;
    const std::string path = ws->connect_path({"a@kline_1m", "b@kline_1m"}, in_url);
    CHECK(in_url == 2);
    CHECK(path == std::string(spec == &mdfeed::binance::kSpotSpec ? "/stream" : "/market/stream") +
                      "?streams=a@kline_1m/b@kline_1m");
  }
  auto ws = mdfeed::binance::kSpotSpec.make_ws(1 << 16);
  const auto cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() +
                                                 "/binance/BINANCE_US.ws.1.0");
  std::size_t klines = 0;
  std::size_t trades = 0;
  for (std::size_t i = 0; i < cap.size(); ++i) {
    const auto e = ws->parse(cap.data(i), cap.len(i), cap.capacity(i));
    REQUIRE((e.kind == mdfeed::venue::EventKind::kKline || e.kind == mdfeed::venue::EventKind::kTrade ||
             e.kind == mdfeed::venue::EventKind::kIgnored));
    if (e.kind == mdfeed::venue::EventKind::kKline) {
      ++klines;
      CHECK(e.topic.find("@kline_") != std::string_view::npos);
      CHECK(e.event_time_ms > 0);
    }
    if (e.kind == mdfeed::venue::EventKind::kTrade) {
      ++trades;
      INFO(cap.text(i));
      // The topic is the stream name, which is also the symbol lower-cased + "@aggTrade".
      CHECK(e.topic.size() > 9);
      CHECK(e.topic.substr(e.topic.size() - 9) == "@aggTrade");
      CHECK(e.event_time_ms > 0);
      CHECK(e.trade.time_ms > 0);
      CHECK(e.trade.price > 0);
      CHECK(e.trade.quantity > 0);
      CHECK(e.trade.first_id <= e.trade.last_id);
    }
  }
  CHECK(klines == 5);
  CHECK(trades == 11);  // grep -c '"stream":"[a-z0-9_]*@aggTrade"' BINANCE_US.ws.1.0
  // A raw (non-combined) aggTrade is named from its symbol, like the combined stream.
  const std::string raw = R"({"e":"aggTrade","E":2,"s":"BTCUSDT","a":1,"p":"1.5","q":"2","f":3,"l":4,"T":1,"m":false})";
  std::vector<char> rb(raw.begin(), raw.end());
  rb.resize(raw.size() + mdfeed::venue::kParsePadding, '\0');
  const auto re = ws->parse(rb.data(), raw.size(), rb.size());
  REQUIRE(re.kind == mdfeed::venue::EventKind::kTrade);
  CHECK(re.topic == "btcusdt@aggTrade");
  CHECK(re.trade.first_id == 3u);
  CHECK(re.trade.last_id == 4u);
  CHECK(re.trade.price == 1.5);
  CHECK(re.event_time_ms == 2);
  std::vector<char> buf(1 + mdfeed::venue::kParsePadding, '\0');
  buf[0] = '{';
  CHECK(ws->parse(buf.data(), 1, buf.size()).kind == mdfeed::venue::EventKind::kError);
  CHECK(std::string(ws->last_error()).size() > 0);
}

TEST_CASE("USD-M: every kline of the real futures capture through the binance-usdm protocol",
          "[binance][venue][usdm]") {
  auto ws = mdfeed::binance::kUsdmSpec.make_ws(1 << 20);
  const auto cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() +
                                                 "/binance/BINANCE_FUTURES.ws.1.0");
  std::size_t klines = 0;
  for (std::size_t i = 0; i < cap.size(); ++i) {
    const auto e = ws->parse(cap.data(i), cap.len(i), cap.capacity(i));
    INFO(i << ": " << ws->last_error());
    REQUIRE(e.kind != mdfeed::venue::EventKind::kError);
    if (e.kind != mdfeed::venue::EventKind::kKline) continue;
    ++klines;
    // The topic routes the update: it names the stream the bar belongs to.
    CHECK(e.topic.find("@kline_") != std::string_view::npos);
    CHECK(e.event_time_ms > 0);
    CHECK(e.bar.trades_known());
    CHECK(e.bar.close_time_ms > e.bar.open_time_ms);
    CHECK(e.bar.low <= e.bar.high);
    CHECK(e.bar.taker_buy_volume <= e.bar.volume);
  }
  CHECK(klines == 67);  // the same count the direct parser test finds in this capture
}
