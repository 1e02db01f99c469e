// The OKX REST protocol: request targets, answer classification, OKX's documented candle and
// time answers, order reversal and rejection, volume units, and the Spec itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "okx/spec.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::kBarBackfilled;
using mdfeed::kBarClosed;
using mdfeed::kBarNoTrades;
using mdfeed::venue::HttpAnswer;
using mdfeed::venue::Paging;
using mdfeed::venue::RestVerdict;
const auto& kSpec = mdfeed::okx::kSpec;
const auto& kRest = mdfeed::okx::kSpec.rest;

// OKX v5 docs, "Get candlesticks" response example: both rows carry the same placeholder ts.
constexpr std::string_view kDocBody =
    R"({"code":"0","msg":"","data":[["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","0"],["1597026383085","3.731","3.799","3.494","3.72","24912403","67632347.24399722","37632347.24399722","1"]]})";

// The same rows with distinct, descending open times (1m bars).
constexpr std::string_view kBody =
    R"({"code":"0","msg":"","data":[["1597026420000","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","0"],["1597026360000","3.731","3.799","3.494","3.72","24912403","67632347.24399722","37632347.24399722","1"]]})";

HttpAnswer answer(int status, std::string_view body, std::string_view retry_after = "") {
  HttpAnswer a;
  a.status = status;
  a.body = body;
  a.retry_after = retry_after;
  return a;
}

}  // namespace

TEST_CASE("the okx spec") {
  CHECK(kSpec.name == "okx");
  CHECK(kSpec.default_ws_url == "wss://ws.okx.com:8443");
  CHECK(kSpec.default_rest_url == "https://www.okx.com");
  CHECK(mdfeed::venue::find("okx") == &kSpec);
  CHECK(kSpec.interval_list() == "1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M");
  CHECK(kSpec.venue_interval("1h") == std::string_view("1H"));
  CHECK(kSpec.venue_interval("6h") == std::string_view("6Hutc"));
  CHECK(kSpec.venue_interval("12h") == std::string_view("12Hutc"));
  CHECK(kSpec.venue_interval("1d") == std::string_view("1Dutc"));
  CHECK(kSpec.venue_interval("1w") == std::string_view("1Wutc"));
  CHECK(kSpec.venue_interval("1M") == std::string_view("1Mutc"));
  CHECK_FALSE(kSpec.venue_interval("1s"));
  CHECK_FALSE(kSpec.venue_interval("8h"));
  CHECK_FALSE(kSpec.venue_interval("3d"));
  CHECK(kSpec.limits.max_klines_per_request == 100);
  CHECK(kSpec.limits.max_connect_attempts == 3);
  CHECK(kSpec.limits.connect_window_ms == 1000);
  CHECK_FALSE(kSpec.limits.event_time);
  CHECK(kSpec.limits.default_control_msgs_per_s <= kSpec.limits.max_control_msgs_per_s);
}

TEST_CASE("klines requests: recent ranges from candles, older ones from history-candles") {
  const std::int64_t now = 1'700'000'000'000;
  const std::int64_t start = now - 100 * 60'000, end = now - 1 * 60'000;
  auto r = kRest.klines_request("BTC-USDT", "1m", start, end, 100, now);
  CHECK(r.target == "/api/v5/market/candles?instId=BTC-USDT&bar=1m&after=" + std::to_string(end + 1) +
                        "&before=" + std::to_string(start - 1) + "&limit=100");
  CHECK(r.cost == 1);
  CHECK(r.order == Paging::kNewestFirst);

  const std::int64_t old = now - 1500 * 60'000;
  r = kRest.klines_request("BTC-USDT-SWAP", "1m", old, old + 99 * 60'000, 100, now);
  CHECK(r.target.rfind("/api/v5/market/history-candles?instId=BTC-USDT-SWAP&bar=1m&", 0) == 0);

  // The latest 1440 bars are counted in the interval's own bars.
  r = kRest.klines_request("BTC-USDT", "1d", now - 1000LL * 86'400'000, now, 100, now);
  CHECK(r.target.rfind("/api/v5/market/candles?instId=BTC-USDT&bar=1Dutc&", 0) == 0);
  // No exchange clock yet: history-candles serves any age.
  r = kRest.klines_request("BTC-USDT", "1h", start, end, 50, 0);
  CHECK(r.target.rfind("/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&", 0) == 0);
  CHECK(r.target.find("&limit=50") != std::string::npos);
}

TEST_CASE("classify") {
  SECTION("ok") { CHECK(kRest.classify(answer(200, kBody)).verdict == RestVerdict::kOk); }
  SECTION("429 without and with Retry-After") {
    auto o = kRest.classify(answer(429, R"({"msg":"Too Many Requests","code":"50011"})"));
    CHECK(o.verdict == RestVerdict::kRetryAfter);
    CHECK(o.wait_ms == 2000);
    CHECK(o.code == 429);
    o = kRest.classify(answer(429, "", "7"));
    CHECK(o.verdict == RestVerdict::kRetryAfter);
    CHECK(o.wait_ms == 7000);
  }
  SECTION("code 50011 on a 200") {
    const auto o = kRest.classify(answer(200, R"({"msg":"Too Many Requests","code":"50011"})"));
    CHECK(o.verdict == RestVerdict::kRetryAfter);
    CHECK(o.wait_ms == 2000);
    CHECK(o.code == 50011);
  }
  SECTION("51001: no such instrument") {
    const auto o = kRest.classify(answer(400, R"({"code":"51001","data":[],"msg":"Instrument ID does not exist"})"));
    CHECK(o.verdict == RestVerdict::kInvalidSymbol);
    CHECK(o.code == 51001);
    CHECK(o.message == "Instrument ID does not exist");
  }
  SECTION("other codes") {
    const auto o = kRest.classify(answer(400, R"({"code":"51000","data":[],"msg":"Parameter bar error"})"));
    CHECK(o.verdict == RestVerdict::kVenueError);
    CHECK(o.code == 51000);
    CHECK(o.message == "Parameter bar error");
  }
  SECTION("not OKX's protocol") {
    for (const auto& a : {answer(502, "<html>Bad Gateway</html>"), answer(200, "[]"), answer(503, ""),
                          answer(404, R"({"code":"0","msg":"","data":[]})"), answer(200, R"({"msg":"x"})")}) {
      const auto o = kRest.classify(a);
      CHECK(o.verdict == RestVerdict::kMalformed);
      CHECK(o.code == a.status);
      CHECK(o.message == "HTTP " + std::to_string(a.status));
    }
  }
}

TEST_CASE("parse_klines: ascending bars, units, flags") {
  std::vector<Bar> out;
  SECTION("spot") {
    const auto o = kRest.parse_klines(kBody, "BTC-USDT", "1m", out);
    INFO(o.message);
    REQUIRE(o.ok());
    REQUIRE(out.size() == 2);
    CHECK(out[0].open_time_ms == 1597026360000);
    CHECK(out[0].close_time_ms == 1597026420000 - 1);
    const std::vector<double> got = {out[0].open, out[0].high, out[0].low, out[0].close,
                                     out[0].volume, out[0].quote_volume};
    CHECK(got == std::vector<double>{3.731, 3.799, 3.494, 3.72, 24912403, 67632347.24399722});
    CHECK(out[1].open_time_ms == 1597026420000);
    CHECK(out[1].volume == 8422410);
    CHECK(out[1].quote_volume == 22698348.04828491);
    for (const auto& b : out) {
      CHECK(b.flags == (kBarBackfilled | kBarNoTrades));  // never kBarClosed: core decides
      CHECK(b.trades == 0);
      CHECK(std::isnan(b.taker_buy_volume));
      CHECK(std::isnan(b.taker_buy_quote_volume));
    }
  }
  SECTION("swap: volCcy and volCcyQuote") {
    REQUIRE(kRest.parse_klines(kBody, "BTC-USDT-SWAP", "1m", out).ok());
    CHECK(out[0].volume == 67632347.24399722);
    CHECK(out[0].quote_volume == 37632347.24399722);
    REQUIRE(kRest.parse_klines(kBody, "BTC-USD-240329", "1m", out).ok());  // dated future
    CHECK(out[0].volume == 67632347.24399722);
  }
  SECTION("monthly close times") {
    REQUIRE(kRest.parse_klines(R"({"code":"0","msg":"","data":[["1709251200000","1","1","1","1","1","1","1","0"],["1706745600000","1","1","1","1","1","1","1","1"]]})",
                               "BTC-USDT", "1M", out).ok());
    CHECK(out[0].close_time_ms == 1709251200000 - 1);
  }
  SECTION("an empty page") {
    REQUIRE(kRest.parse_klines(R"({"code":"0","msg":"","data":[]})", "BTC-USDT", "1m", out).ok());
    CHECK(out.empty());
  }
  SECTION("the documented example repeats its ts: not strictly descending, refused") {
    out.resize(3);
    const auto o = kRest.parse_klines(kDocBody, "BTC-USDT", "1m", out);
    CHECK(o.verdict == RestVerdict::kMalformed);
    CHECK(o.message.find("does not precede") != std::string::npos);
    CHECK(out.empty());
  }
  SECTION("ascending input is refused") {
    const auto o = kRest.parse_klines(R"({"code":"0","msg":"","data":[["1","1","1","1","1","1","1","1","0"],["2","1","1","1","1","1","1","1","0"]]})",
                                      "BTC-USDT", "1m", out);
    CHECK(o.verdict == RestVerdict::kMalformed);
    CHECK(out.empty());
  }
  SECTION("venue errors") {
    auto o = kRest.parse_klines(R"({"code":"51001","data":[],"msg":"Instrument ID does not exist"})", "X-Y", "1m", out);
    CHECK(o.verdict == RestVerdict::kInvalidSymbol);
    o = kRest.parse_klines(R"({"code":"50000","data":[],"msg":"Body can not be empty"})", "X-Y", "1m", out);
    CHECK(o.verdict == RestVerdict::kVenueError);
    CHECK(o.code == 50000);
    CHECK(o.message == "Body can not be empty");
  }
  SECTION("malformed") {
    for (std::string_view body : {
             std::string_view(""), std::string_view("[]"), std::string_view(R"({"code":"0","msg":""})"),
             std::string_view(R"({"msg":"","data":[]})"),
             std::string_view(R"({"code":"0","msg":"","data":[["1","1","1","1","1","1","1","0"]]})"),
             std::string_view(R"({"code":"0","msg":"","data":[[1,"1","1","1","1","1","1","1","0"]]})"),
             std::string_view(R"({"code":"0","msg":"","data":[["1","1","1","1","1","1","1","1","9"]]})"),
             std::string_view(R"({"code":"0","msg":"","data":{}})"),
             std::string_view(R"({"code":"0","msg":"","data":[]}x)"),
             std::string_view(R"({"code":"0","msg":"","data":[["1","1","1","1","1","1","1","1","0"])"),
         }) {
      INFO(body);
      out.resize(1);
      const auto o = kRest.parse_klines(body, "BTC-USDT", "1m", out);
      CHECK(o.verdict == RestVerdict::kMalformed);
      CHECK_FALSE(o.message.empty());
      CHECK(out.empty());
    }
    CHECK(kRest.parse_klines(kBody, "BTC-USDT", "3d", out).verdict == RestVerdict::kMalformed);
  }
}

TEST_CASE("server time") {
  CHECK(kRest.server_time_target == "/api/v5/public/time");
  CHECK(kRest.server_time_cost == 1);
  // OKX v5 docs, "Get system time" response example.
  CHECK(kRest.parse_server_time(R"({"code":"0","msg":"","data":[{"ts":"1597026383085"}]})") == 1597026383085);
  CHECK_FALSE(kRest.parse_server_time(R"({"code":"0","msg":"","data":[{"ts":1597026383085}]})"));
  CHECK_FALSE(kRest.parse_server_time(R"({"code":"50001","msg":"","data":[]})"));
  CHECK_FALSE(kRest.parse_server_time(R"({"code":"0","msg":"","data":[]})"));
  CHECK_FALSE(kRest.parse_server_time("x"));
}
