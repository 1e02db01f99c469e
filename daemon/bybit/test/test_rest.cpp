// Bybit v5 REST: the kline request, newest-first rows into ascending bars (Bybit's documented
// example), every classify() verdict, and the server time.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bybit/protocol.hpp"
#include "bybit/spec.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::venue::HttpAnswer;
using mdfeed::venue::RestOutcome;
using mdfeed::venue::RestVerdict;

const auto& kSpot = mdfeed::bybit::kSpotSpec;

// https://bybit-exchange.github.io/docs/v5/market/kline, "Response Example".
const std::string kDocKlines =
    R"({"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSD","category":"inverse","list":[)"
    R"(["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"],)"
    R"(["1670605200000","17071.5","17071.5","17061","17071","4177","0.24469757"],)"
    R"(["1670601600000","17086.5","17088","16978","17071.5","6356","0.37288112"]]},)"
    R"("retExtInfo":{},"time":1672025956592})";

RestOutcome parse(const std::string& body, std::vector<Bar>& out, const char* interval = "1h") {
  return kSpot.rest.parse_klines(body, "BTCUSDT", interval, out);
}

HttpAnswer answer(int status, const std::string& body, std::string_view reset = {}) {
  HttpAnswer a;
  a.status = status;
  a.body = body;
  a.reset_header = reset;
  a.exchange_now_ms = 1'700'000'000'000;
  return a;
}

}  // namespace

TEST_CASE("klines request targets", "[bybit][rest]") {
  const auto spot = kSpot.rest.klines_request("BTCUSDT", "1h", 1000, 5000, 1000, 0);
  CHECK(spot.target ==
        "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60&start=1000&end=5000&limit=1000");
  CHECK(spot.cost == 1);
  CHECK(spot.order == mdfeed::venue::Paging::kNewestFirst);
  const auto linear = mdfeed::bybit::kLinearSpec.rest.klines_request("ETHUSDT", "1d", 1, 2, 3, 0);
  CHECK(linear.target == "/v5/market/kline?category=linear&symbol=ETHUSDT&interval=D&start=1&end=2&limit=3");
  CHECK(kSpot.rest.server_time_target == "/v5/market/time");
}

TEST_CASE("the documented rows come back ascending, field by field", "[bybit][rest]") {
  std::vector<Bar> out;
  const RestOutcome r = parse(kDocKlines, out);
  INFO(r.message);
  REQUIRE(r.ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].open_time_ms == 1670601600000);
  CHECK(out[1].open_time_ms == 1670605200000);
  CHECK(out[2].open_time_ms == 1670608800000);
  // The newest row, bit for bit: close = next open - 1 ms, volume base, turnover quote.
  Bar want{};
  want.open_time_ms = 1670608800000, want.close_time_ms = 1670612399999;
  want.open = 17071, want.high = 17073, want.low = 17027, want.close = 17055.5;
  want.volume = 268611, want.quote_volume = 15.74462667;
  want.taker_buy_volume = want.taker_buy_quote_volume = std::numeric_limits<double>::quiet_NaN();
  want.flags = mdfeed::kBarBackfilled | mdfeed::kBarNoTrades;
  CHECK(std::memcmp(&out[2], &want, sizeof want) == 0);
  for (const Bar& x : out) {
    CHECK(std::isnan(x.taker_buy_volume));
    CHECK(std::isnan(x.taker_buy_quote_volume));
    CHECK(x.trades == 0);
    CHECK(x.flags == (mdfeed::kBarBackfilled | mdfeed::kBarNoTrades));
  }
  CHECK(out[0].close_time_ms == out[1].open_time_ms - 1);
}

TEST_CASE("monthly bars close at the end of the calendar month", "[bybit][rest]") {
  // 2024-01-01 and 2024-02-01 UTC, newest first.
  const std::string body =
      R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","symbol":"BTCUSDT","list":[)"
      R"(["1706745600000","1","2","0.5","1.5","10","15"],["1704067200000","1","2","0.5","1.5","10","15"]]},"retExtInfo":{},"time":1})";
  std::vector<Bar> out;
  REQUIRE(parse(body, out, "1M").ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0].close_time_ms == 1706745600000 - 1);
  CHECK(out[1].close_time_ms == 1709251200000 - 1);  // 2024-03-01, after a 29-day February
}

TEST_CASE("an empty list is no bars; bad pages are malformed and leave nothing", "[bybit][rest]") {
  std::vector<Bar> out{Bar{}};
  REQUIRE(parse(R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","symbol":"X","list":[]},"retExtInfo":{},"time":1})", out).ok());
  CHECK(out.empty());

  const std::vector<std::string> bad = {
      "",
      "<html>",
      // ascending rows: Bybit's order is newest first, so this page is not trusted
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["1","1","1","1","1","1","1"],["2","1","1","1","1","1","1"]]}})",
      // a repeated open time
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["2","1","1","1","1","1","1"],["2","1","1","1","1","1","1"]]}})",
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["1","1","1","1","1","1"]]}})",  // 6 columns
      R"({"retCode":0,"retMsg":"OK","result":{"list":[[1,"1","1","1","1","1","1"]]}})",  // bare time
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["1","x","1","1","1","1","1"]]}})",
      R"({"retCode":0,"retMsg":"OK","result":{}})",  // no list
      R"({"retMsg":"OK","result":{"list":[]}})",     // no retCode
      kDocKlines + "]",
  };
  for (const auto& body : bad) {
    INFO(body);
    out.assign(1, Bar{});
    const RestOutcome r = parse(body, out);
    CHECK(r.verdict == RestVerdict::kMalformed);
    CHECK_FALSE(r.message.empty());
    CHECK(out.empty());
  }
}

TEST_CASE("a venue error in the klines body is reported, not parsed", "[bybit][rest]") {
  std::vector<Bar> out{Bar{}};
  const RestOutcome r = parse(R"({"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":1})", out);
  CHECK(r.verdict == RestVerdict::kInvalidSymbol);
  CHECK(r.code == 10001);
  CHECK(out.empty());
}

TEST_CASE("classify: every verdict", "[bybit][rest]") {
  const auto& classify = kSpot.rest.classify;
  RestOutcome o = classify(answer(200, kDocKlines));
  CHECK(o.verdict == RestVerdict::kOk);

  // IP limit: "403, access too frequent": stop all HTTP for at least 10 minutes.
  o = classify(answer(403, "access too frequent"));
  CHECK(o.verdict == RestVerdict::kBanned);
  CHECK(o.wait_ms == 600'000);
  CHECK(o.code == 403);

  // API limit: retCode 10006, wait until X-Bapi-Limit-Reset-Timestamp.
  const std::string visits = R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1})";
  o = classify(answer(200, visits, "1700000002500"));
  CHECK(o.verdict == RestVerdict::kRetryAfter);
  CHECK(o.wait_ms == 2'500);
  CHECK(o.code == 10006);
  CHECK(o.message == "Too many visits!");
  o = classify(answer(200, visits, "1699999999000"));  // already past: retry now
  CHECK(o.verdict == RestVerdict::kRetryAfter);
  CHECK(o.wait_ms == 0);
  o = classify(answer(200, visits));  // no header: a few seconds
  CHECK(o.wait_ms == mdfeed::bybit::kDefaultRetryMs);
  o = classify(answer(200, visits, "soon"));
  CHECK(o.wait_ms == mdfeed::bybit::kDefaultRetryMs);

  o = classify(answer(200, R"({"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":1})"));
  CHECK(o.verdict == RestVerdict::kInvalidSymbol);
  CHECK(o.code == 10001);
  o = classify(answer(200, R"({"retCode":10001,"retMsg":"params error: symbol invalid","result":{},"retExtInfo":{},"time":1})"));
  CHECK(o.verdict == RestVerdict::kInvalidSymbol);
  // 10001 about something else is a plain venue error.
  o = classify(answer(200, R"({"retCode":10001,"retMsg":"Invalid period!","result":{},"retExtInfo":{},"time":1})"));
  CHECK(o.verdict == RestVerdict::kVenueError);
  o = classify(answer(200, R"({"retCode":10016,"retMsg":"Internal server error.","result":{},"retExtInfo":{},"time":1})"));
  CHECK(o.verdict == RestVerdict::kVenueError);
  CHECK(o.code == 10016);
  CHECK(o.message == "Internal server error.");

  o = classify(answer(502, "<html>Bad Gateway</html>"));
  CHECK(o.verdict == RestVerdict::kMalformed);
  CHECK(o.code == 502);
  CHECK(o.message == "HTTP 502");
  o = classify(answer(200, "not json"));
  CHECK(o.verdict == RestVerdict::kMalformed);
  CHECK(o.message == "HTTP 200");
  o = classify(answer(200, R"({"retMsg":"OK"})"));
  CHECK(o.verdict == RestVerdict::kMalformed);
}

TEST_CASE("server time from timeNano", "[bybit][rest]") {
  // https://bybit-exchange.github.io/docs/v5/market/time, "Response Example".
  const auto t = kSpot.rest.parse_server_time(
      R"({"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423})");
  REQUIRE(t);
  CHECK(*t == 1688639403423);
  CHECK_FALSE(kSpot.rest.parse_server_time(R"({"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403"}})"));
  CHECK_FALSE(kSpot.rest.parse_server_time(R"({"retCode":10016,"retMsg":"x","result":{"timeNano":"1"}})"));
  CHECK_FALSE(kSpot.rest.parse_server_time(R"({"retCode":0,"result":{"timeNano":1688639403423213947}})"));
  CHECK_FALSE(kSpot.rest.parse_server_time("garbage"));
}
