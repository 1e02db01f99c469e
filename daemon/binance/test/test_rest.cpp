// Binance REST: klines response rows into Bars, venue error bodies, malformed bodies, server
// time, and the request targets.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "binance/rest.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::binance::RestParser;
using mdfeed::binance::RestResult;
using mdfeed::binance::RestStatus;

// Three 1m rows; the last is the bar still forming when the request was served.
const std::string kBody =
    R"([[1633998360000,"0.35200000","0.35300000","0.35100000","0.35250000","1000.50000000",)"
    R"(1633998419999,"352.70000000",12,"400.00000000","141.00000000","0"],)"
    R"([1633998420000,"0.35250000","0.35400000","0.35250000","0.35270000","2000.00000000",)"
    R"(1633998479999,"706.00000000",25,"1000.00000000","353.00000000","0"],)"
    R"([1633998480000,"0.35270000","0.35290000","0.35220000","0.35280000","25877.00000000",)"
    R"(1633998539999,"9116.04600000",30,"58.00000000","20.46240000","0"]])";

RestResult parse(const std::string& body, std::vector<Bar>& out) {
  return mdfeed::binance::parse_klines_response(body, out);
}

void require_malformed(const std::string& body, const char* mentions = nullptr) {
  std::vector<Bar> out{Bar{}};
  INFO(body);
  const RestResult r = parse(body, out);
  INFO(r.message);
  REQUIRE(r.status == RestStatus::kError);
  REQUIRE_FALSE(r.message.empty());
  REQUIRE(out.empty());
  if (mentions != nullptr) REQUIRE(r.message.find(mentions) != std::string::npos);
}

std::string row(const std::string& open_time, const std::string& open, const std::string& trades) {
  return "[" + open_time + "," + open +
         R"(,"2","0.5","1.5","10",1633998419999,"15",)" + trades + R"(,"4","6","0"])";
}

}  // namespace

TEST_CASE("klines rows become backfilled bars, field by field", "[binance][rest]") {
  std::vector<Bar> out;
  const RestResult r = parse(kBody, out);
  REQUIRE(r.ok());
  CHECK(r.message.empty());
  REQUIRE(out.size() == 3);
  const Bar& b = out[0];
  CHECK(b.open_time_ms == 1633998360000);
  CHECK(b.close_time_ms == 1633998419999);
  CHECK(b.open == 0.352);
  CHECK(b.high == 0.353);
  CHECK(b.low == 0.351);
  CHECK(b.close == 0.3525);
  CHECK(b.volume == 1000.5);
  CHECK(b.quote_volume == 352.7);
  CHECK(b.trades == 12u);
  CHECK(b.taker_buy_volume == 400.0);
  CHECK(b.taker_buy_quote_volume == 141.0);
  // The forming last row is flagged like the others: closing it is the caller's decision.
  for (const Bar& bar : out) {
    CHECK(bar.flags == mdfeed::kBarBackfilled);
    CHECK_FALSE(bar.closed());
    CHECK(bar.reserved == 0u);
  }
  CHECK(out[2].close == 0.3528);
  CHECK(out[2].trades == 30u);

  SECTION("out is replaced, not appended to; the parser is reusable") {
    REQUIRE(parse(kBody, out).ok());
    CHECK(out.size() == 3);
    REQUIRE(parse("[]", out).ok());
    CHECK(out.empty());
  }
  SECTION("whitespace and extra trailing columns are accepted") {
    REQUIRE(parse(" [ [1,\"1\",\"2\",\"0.5\",\"1.5\",\"10\",59999,\"15\",3,\"4\",\"6\",\"0\",\"extra\",7] ]\n",
                  out).ok());
    CHECK(out.size() == 1);
  }
  SECTION("an owned parser works the same") {
    RestParser p(1 << 16);
    REQUIRE(p.parse_klines(kBody, out).ok());
    CHECK(out.size() == 3);
    REQUIRE(p.parse_klines(std::string(70'000, ' ') + "[]", out).status == RestStatus::kError);
  }
}

TEST_CASE("venue error bodies", "[binance][rest]") {
  std::vector<Bar> out{Bar{}};
  RestResult r = parse(R"({"code":-1121,"msg":"Invalid symbol."})", out);
  CHECK(r.status == RestStatus::kInvalidSymbol);
  CHECK(r.code == -1121);
  CHECK(r.message == "Invalid symbol.");
  CHECK(out.empty());
  r = parse(R"({"code":-1003,"msg":"Too many requests; current limit is 6000 request weight per 1 MINUTE."})", out);
  CHECK(r.status == RestStatus::kApiError);
  CHECK(r.code == -1003);
  CHECK(r.message.find("Too many requests") == 0);
  r = parse(R"({"msg":"Invalid interval.","code":-1120})", out);
  CHECK(r.status == RestStatus::kApiError);
  CHECK(r.code == -1120);
  r = parse(R"({"msg":"no code"})", out);
  CHECK(r.status == RestStatus::kError);
}

TEST_CASE("malformed klines bodies", "[binance][rest][errors]") {
  require_malformed("", "empty");
  require_malformed("null");
  require_malformed("42");
  require_malformed("<html>502 Bad Gateway</html>");
  require_malformed(kBody.substr(0, kBody.size() - 1));
  require_malformed(kBody.substr(0, kBody.size() / 2));
  require_malformed(kBody + "]", "trailing");
  require_malformed("[" + row("1", "\"1\"", "3") + ",5]", "row 1");
  require_malformed("[[1,\"1\",\"2\",\"0.5\",\"1.5\",\"10\",59999,\"15\",3,\"4\"]]", "10 columns");
  require_malformed("[" + row("\"1\"", "\"1\"", "3") + "]", "column 0");
  require_malformed("[" + row("1", "1.5", "3") + "]", "column 1");
  require_malformed("[" + row("1", "\"x\"", "3") + "]", "column 1");
  require_malformed("[" + row("1", "\"1\"", "-3") + "]", "column 8");
  require_malformed("[" + row("1", "\"1\"", "\"3\"") + "]", "column 8");
  // Open times must increase strictly (duplicates, out of order).
  require_malformed("[" + row("2", "\"1\"", "3") + "," + row("2", "\"1\"", "3") + "]", "row 1");
  require_malformed("[" + row("2", "\"1\"", "3") + "," + row("1", "\"1\"", "3") + "]", "row 1");
  // Every truncation of a good body fails cleanly.
  for (std::size_t n = 1; n < kBody.size(); ++n) require_malformed(kBody.substr(0, n));
  // The parser still works afterwards.
  std::vector<Bar> out;
  REQUIRE(parse(kBody, out).ok());
  CHECK(out.size() == 3);
}

TEST_CASE("server time", "[binance][rest]") {
  CHECK(mdfeed::binance::parse_server_time(R"({"serverTime":1499827319559})") == 1499827319559);
  CHECK(mdfeed::binance::parse_server_time(R"( { "serverTime" : 1 } )") == 1);
  CHECK_FALSE(mdfeed::binance::parse_server_time(R"({"serverTime":"1499827319559"})"));
  CHECK_FALSE(mdfeed::binance::parse_server_time(R"({"time":1})"));
  CHECK_FALSE(mdfeed::binance::parse_server_time(R"({"serverTime":1)"));
  CHECK_FALSE(mdfeed::binance::parse_server_time(R"({"serverTime":1}x)"));
  CHECK_FALSE(mdfeed::binance::parse_server_time("[]"));
  CHECK_FALSE(mdfeed::binance::parse_server_time(""));
}

TEST_CASE("request targets", "[binance][rest]") {
  using mdfeed::binance::klines_target;
  CHECK(klines_target("/api/v3/klines", "BTCUSDT", "1m", 1633998360000, 1633998539999, 1000) ==
        "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1633998360000&endTime=1633998539999&limit=1000");
  CHECK(klines_target("/api/v3/klines", "btcusdt", "1M", 0, std::nullopt, 500) ==
        "/api/v3/klines?symbol=BTCUSDT&interval=1M&startTime=0&limit=500");
  CHECK(klines_target("/fapi/v1/klines", "ETHUSDT", "1h", 5, 6, 1500) ==
        "/fapi/v1/klines?symbol=ETHUSDT&interval=1h&startTime=5&endTime=6&limit=1500");
}
