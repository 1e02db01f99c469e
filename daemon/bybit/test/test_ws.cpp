// Bybit v5 WebSocket protocol: kline pushes (Bybit's documented example), control replies,
// pongs of both markets, other topics, malformed input, subscribe batching and the ping.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bybit/protocol.hpp"
#include "bybit/spec.hpp"
#include "venue/venue.hpp"

namespace {

using mdfeed::venue::Event;
using mdfeed::venue::EventKind;
using mdfeed::venue::kParsePadding;

// https://bybit-exchange.github.io/docs/v5/websocket/public/kline, "Response Example".
const std::string kDocKline =
    R"({"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,)"
    R"("interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608",)"
    R"("volume":"2.081","turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],)"
    R"("ts":1672324988882,"type":"snapshot"})";

struct Parser {
  std::unique_ptr<mdfeed::venue::WsProtocol> ws;
  std::vector<char> buf;
  explicit Parser(const mdfeed::venue::Spec& spec = mdfeed::bybit::kSpotSpec)
      : ws(spec.make_ws(1 << 20)) {}
  Event parse(const std::string& msg) {
    buf.assign(msg.size() + kParsePadding, '\0');
    std::memcpy(buf.data(), msg.data(), msg.size());
    return ws->parse(buf.data(), msg.size(), buf.size());
  }
};

}  // namespace

TEST_CASE("the documented kline push becomes a bar, field by field", "[bybit][ws]") {
  Parser p;
  const Event e = p.parse(kDocKline);
  INFO(p.ws->last_error());
  REQUIRE(e.kind == EventKind::kKline);
  CHECK(std::string(p.ws->last_error()).empty());
  CHECK(e.topic == "kline.5.BTCUSDT");
  CHECK(e.topic == p.ws->kline_topic("BTCUSDT", "5m"));
  CHECK(e.event_time_ms == 1672324988882);
  // The whole bar, bit for bit: unknown fields NaN, no trade count, confirm false: not closed.
  mdfeed::Bar want{};
  want.open_time_ms = 1672324800000, want.close_time_ms = 1672325099999;  // start + 5 min - 1
  want.open = 16649.5, want.high = 16677, want.low = 16608, want.close = 16677;
  want.volume = 2.081, want.quote_volume = 34666.4005;
  want.taker_buy_volume = want.taker_buy_quote_volume = std::numeric_limits<double>::quiet_NaN();
  want.flags = mdfeed::kBarNoTrades;
  CHECK(std::memcmp(&e.bar, &want, sizeof want) == 0);
  CHECK(std::isnan(e.bar.taker_buy_volume));
}

TEST_CASE("confirm true closes the bar; several entries report the newest", "[bybit][ws]") {
  Parser p(mdfeed::bybit::kLinearSpec);
  std::string closed = kDocKline;
  closed.replace(closed.find("false"), 5, "true");
  Event e = p.parse(closed);
  REQUIRE(e.kind == EventKind::kKline);
  CHECK(e.bar.flags == (mdfeed::kBarNoTrades | mdfeed::kBarClosed));

  const std::string two =
      R"({"topic":"kline.1.ETHUSDT","data":[)"
      R"({"start":1672324860000,"end":1672324919999,"interval":"1","open":"2","close":"3","high":"4","low":"1","volume":"5","turnover":"6","confirm":false,"timestamp":1},)"
      R"({"start":1672324800000,"end":1672324859999,"interval":"1","open":"1","close":"2","high":"3","low":"1","volume":"7","turnover":"8","confirm":true,"timestamp":1}],)"
      R"("ts":1672324861000,"type":"snapshot"})";
  e = p.parse(two);
  REQUIRE(e.kind == EventKind::kKline);
  CHECK(e.topic == "kline.1.ETHUSDT");
  CHECK(e.bar.open_time_ms == 1672324860000);
  CHECK(e.bar.volume == 5.0);
}

TEST_CASE("data before topic is still parsed", "[bybit][ws]") {
  Parser p;
  const std::string reordered =
      R"({"data":[{"confirm":true,"turnover":"6","volume":"5","low":"1","high":"4","close":"3","open":"2",)"
      R"("end":1672324919999,"start":1672324860000}],"type":"snapshot","ts":7,"topic":"kline.1.BTCUSDT"})";
  const Event e = p.parse(reordered);
  INFO(p.ws->last_error());
  REQUIRE(e.kind == EventKind::kKline);
  CHECK(e.topic == "kline.1.BTCUSDT");
  CHECK(e.event_time_ms == 7);
  CHECK(e.bar.open == 2.0);
  CHECK(e.bar.closed());
}

TEST_CASE("subscribe replies, success and failure", "[bybit][ws]") {
  Parser p;
  // https://bybit-exchange.github.io/docs/v5/ws/connect, public spot subscription response.
  Event e = p.parse(R"({"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"})");
  REQUIRE(e.kind == EventKind::kControlReply);
  CHECK(e.control.ok);
  CHECK(e.control.id == 10001);
  e = p.parse(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"7","op":"unsubscribe"})");
  REQUIRE(e.kind == EventKind::kControlReply);
  CHECK(e.control.ok);
  CHECK(e.control.id == 7);
  e = p.parse(R"({"success":false,"ret_msg":"Invalid topic :[kline.1.NOPE]","conn_id":"c","req_id":"8","op":"subscribe"})");
  REQUIRE(e.kind == EventKind::kControlReply);
  CHECK_FALSE(e.control.ok);
  CHECK(e.control.id == 8);
  CHECK(e.control.error_msg == "Invalid topic :[kline.1.NOPE]");
  e = p.parse(R"({"success":false,"ret_msg":"error:handler not found","conn_id":"c","req_id":"","op":""})");
  REQUIRE(e.kind == EventKind::kControlReply);
  CHECK_FALSE(e.control.ok);
  CHECK(e.control.id == -1);
}

TEST_CASE("pongs of both markets and of the op:pong shape", "[bybit][ws]") {
  for (const auto* spec : {&mdfeed::bybit::kSpotSpec, &mdfeed::bybit::kLinearSpec}) {
    Parser p(*spec);
    // v5 "Connect", pong of public channels (spot).
    CHECK(p.parse(R"({"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"})").kind == EventKind::kPong);
    // Linear/inverse public pong (carries req_id).
    CHECK(p.parse(R"({"success":true,"ret_msg":"pong","conn_id":"465772b1-7630-4fdc-a492-e003e6f0f260","req_id":"3","op":"ping"})").kind == EventKind::kPong);
    // v5 "Connect", the op:pong shape (private channels; options).
    CHECK(p.parse(R"({"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"})").kind == EventKind::kPong);
  }
}

TEST_CASE("other topics are ignored; malformed input is an error with a reason", "[bybit][ws]") {
  Parser p;
  CHECK(p.parse(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]})").kind == EventKind::kIgnored);
  CHECK(p.parse(R"({"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":1}})").kind == EventKind::kIgnored);
  CHECK(std::string(p.ws->last_error()).empty());

  const std::vector<std::string> bad = {
      "",
      "not json",
      "[1,2]",
      kDocKline.substr(0, kDocKline.size() - 1),  // truncated
      kDocKline + "x",                             // trailing bytes
      R"({"topic":"kline.5.BTCUSDT","ts":1,"type":"snapshot"})",          // no data
      R"({"topic":"kline.5.BTCUSDT","data":[],"ts":1,"type":"snapshot"})",  // empty data
      R"({"topic":"kline.5.BTCUSDT","data":[{"start":1,"end":2}],"ts":1})",  // no prices
      R"({"topic":"kline.5.BTCUSDT","data":[{"start":1,"end":2,"open":1,"close":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":true}],"ts":1})",  // bare number
      R"({"topic":"kline.5.BTCUSDT","data":[{"start":5,"end":2,"open":"1","close":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":true}],"ts":1})",  // end < start
      R"({"topic":"kline.5.BTCUSDT","data":[{"start":1,"end":2,"open":"1","close":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":true}]})",  // no ts
      R"({"success":true,"conn_id":"c","req_id":"1","op":"subscribe","ret_msg":5})",
  };
  for (const auto& m : bad) {
    INFO(m);
    const Event e = p.parse(m);
    CHECK(e.kind == EventKind::kError);
    CHECK_FALSE(std::string(p.ws->last_error()).empty());
  }
  // The parser is ready for the next message after an error.
  CHECK(p.parse(kDocKline).kind == EventKind::kKline);
}

TEST_CASE("a buffer without padding is refused", "[bybit][ws]") {
  Parser p;
  std::vector<char> buf(kDocKline.begin(), kDocKline.end());
  buf.resize(kDocKline.size() + kParsePadding - 1);
  CHECK(p.ws->parse(buf.data(), kDocKline.size(), buf.size()).kind == EventKind::kError);
}

TEST_CASE("topics, paths and subscribe batching", "[bybit][ws]") {
  const auto spot = mdfeed::bybit::kSpotSpec.make_ws(1 << 16);
  const auto linear = mdfeed::bybit::kLinearSpec.make_ws(1 << 16);
  CHECK(spot->kline_topic("BTCUSDT", "1m") == "kline.1.BTCUSDT");
  CHECK(spot->kline_topic("BTCUSDT", "1h") == "kline.60.BTCUSDT");
  CHECK(spot->kline_topic("BTCUSDT", "1d") == "kline.D.BTCUSDT");
  CHECK(spot->kline_topic("BTCUSDT", "1M") == "kline.M.BTCUSDT");
  std::vector<std::string> topics;
  for (int i = 0; i < 23; ++i) topics.push_back("kline.1.SYM" + std::to_string(i) + "USDT");
  std::size_t in_url = 99;
  CHECK(spot->connect_path(topics, in_url) == "/v5/public/spot");
  CHECK(in_url == 0);
  CHECK(linear->connect_path(topics, in_url) == "/v5/public/linear");
  CHECK(in_url == 0);

  std::int64_t id = 7;
  const auto frames = spot->control_frames(topics, true, id);
  REQUIRE(frames.size() == 3);  // 10 + 10 + 3: spot takes at most 10 args per request
  CHECK(id == 10);
  CHECK(frames[0].rfind(R"({"req_id":"7","op":"subscribe","args":["kline.1.SYM0USDT","kline.1.SYM1USDT",)", 0) == 0);
  CHECK(frames[2] == R"({"req_id":"9","op":"subscribe","args":["kline.1.SYM20USDT","kline.1.SYM21USDT","kline.1.SYM22USDT"]})");
  for (const auto& f : frames) {
    std::size_t args = 0;
    for (std::size_t pos = f.find("kline."); pos != std::string::npos; pos = f.find("kline.", pos + 1)) ++args;
    CHECK(args <= 10);
  }
  const auto unsub = linear->control_frames({"kline.1.BTCUSDT"}, false, id);
  REQUIRE(unsub.size() == 1);
  CHECK(unsub[0] == R"({"req_id":"10","op":"unsubscribe","args":["kline.1.BTCUSDT"]})");
}

TEST_CASE("the ping goes out every 20 s", "[bybit][ws]") {
  const auto ws = mdfeed::bybit::kLinearSpec.make_ws(1 << 16);
  CHECK_FALSE(ws->heartbeat(1'000, 1'000, 20'000));  // starts the clock
  CHECK_FALSE(ws->heartbeat(20'999, 20'000, 20'000));
  const auto first = ws->heartbeat(21'000, 21'000, 20'000);
  REQUIRE(first);
  CHECK(*first == R"({"req_id":"1","op":"ping"})");
  CHECK_FALSE(ws->heartbeat(40'999, 40'000, 20'000));
  const auto second = ws->heartbeat(41'000, 41'000, 20'000);
  REQUIRE(second);
  CHECK(*second == R"({"req_id":"2","op":"ping"})");
}

TEST_CASE("both specs are registered with Bybit's intervals and limits", "[bybit][spec]") {
  for (const char* name : {"bybit-spot", "bybit-linear"}) {
    const auto* s = mdfeed::venue::find(name);
    REQUIRE(s != nullptr);
    CHECK(s->default_ws_url == "wss://stream.bybit.com");
    CHECK(s->default_rest_url == "https://api.bybit.com");
    CHECK(s->rest_reset_header == "X-Bapi-Limit-Reset-Timestamp");
    CHECK(s->interval_list() == "1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M");
    CHECK(s->venue_interval("2h") == "120");
    CHECK(s->venue_interval("12h") == "720");
    CHECK(s->venue_interval("1w") == "W");
    CHECK_FALSE(s->venue_interval("1s"));
    CHECK_FALSE(s->venue_interval("8h"));
    CHECK(s->limits.max_topics_per_request == 10);
    CHECK(s->limits.heartbeat_ms == 20'000);
    CHECK(s->limits.rest_budget == 600);
    CHECK(s->limits.rest_window_ms == 5'000);
    CHECK(s->limits.max_klines_per_request == 1000);
    // The longest topic (kline.720. + 31 characters) quoted, with a comma, times the cap must
    // stay under Bybit's 21,000 characters of args per connection.
    CHECK(s->limits.max_streams_per_connection * (10 + 31 + 3) < 21'000);
  }
}
