// The venues of the fake exchange without a network: routing by path, each venue's subscribe,
// ping and push shapes, REST ordering, limits and error bodies, and the instrument price levels.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <mdfeed/names.hpp>

#include "fake_exchange/commands.hpp"
#include "fake_exchange/market.hpp"
#include "fake_exchange/truth_dump.hpp"
#include "fake_exchange/venues/binance.hpp"
#include "fake_exchange/venues/bybit.hpp"
#include "fake_exchange/venues/okx.hpp"

using namespace mdfeed;
using namespace mdfeed::fake;

namespace {

constexpr std::int64_t kT0 = 1'699'920'000'000;  // a 1d boundary
constexpr std::int64_t kMin = 60'000;

Options opts() {
  Options o;
  o.cert_file = o.key_file = "x";
  return o;
}

Venue* by_name(const VenueList& v, std::string_view name) {
  for (const auto& p : v)
    if (p->name() == name) return p.get();
  return nullptr;
}

// Which venue takes a WebSocket upgrade on `path` ("" = none).
std::string ws_owner(const VenueList& v, std::string_view path, const QueryArgs& args = {}) {
  for (const auto& p : v)
    if (p->ws_handshake(path, args)) return std::string(p->name());
  return "";
}

struct Rest {
  VenueList venues = make_venues(opts());
  std::vector<std::string> invalid{"DELISTED", "GONE-USDT"};
  std::int64_t real_ms = 1'000'000;
  std::int64_t faults = 0;
  RestFault fault_kind = RestFault::kRateLimit;

  HttpResponse get(std::string_view path, const QueryArgs& args) {
    RestEnv env;
    env.market.sim_now_ms = kT0 + 30'000;  // mid-bar: the 1m bar at kT0 is forming
    env.market.history_start_ms = kT0 - 30LL * 86'400'000;
    env.market.invalid_symbols = &invalid;
    env.real_ms = real_ms;
    env.take_fault = [](void* self, std::int64_t& retry) {
      auto* r = static_cast<Rest*>(self);
      if (r->faults == 0) return RestFault::kNone;
      --r->faults;
      retry = 7;
      return r->fault_kind;
    };
    env.fault_ctx = this;
    for (const auto& v : venues)
      if (auto r = v->rest(path, args, env)) return *r;
    FAIL("no venue serves " << path);
    return {};
  }
};

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element doc;
  REQUIRE(p.parse(s).get(doc) == simdjson::SUCCESS);
  return doc;
}

WsAction send(Venue& v, std::string_view path, std::string_view msg,
              const std::vector<std::string>& topics = {}) {
  static simdjson::dom::parser parser;
  return v.on_message(WsConnView{42, path, true, &topics}, msg, false, parser);
}

}  // namespace

TEST_CASE("every venue's WebSocket path is routed to that venue", "[fake][venues]") {
  const VenueList v = make_venues(opts());
  CHECK(ws_owner(v, "/stream", {{"streams", "btcusdt@kline_1m"}}) == "binance");
  CHECK(ws_owner(v, "/ws") == "binance");
  CHECK(ws_owner(v, "/ws/0") == "binance");  // CCXT's raw URL: accepted, carries nothing
  CHECK(ws_owner(v, "/market/stream", {{"streams", "btcusdt@kline_1m"}}) == "binance-usdm");
  CHECK(ws_owner(v, "/market/ws/btcusdt@kline_1m") == "binance-usdm");
  CHECK(ws_owner(v, "/ws/v5/business") == "okx");
  CHECK(ws_owner(v, "/ws/v5/public") == "okx");
  CHECK(ws_owner(v, "/v5/public/spot") == "bybit");
  CHECK(ws_owner(v, "/v5/public/linear") == "bybit");
  CHECK(ws_owner(v, "/v5/public/option").empty());
  CHECK(ws_owner(v, "/nope").empty());

  const auto spot = by_name(v, "binance")->ws_handshake("/ws/0", {});
  REQUIRE(spot);
  CHECK(spot->reject.empty());
  CHECK(spot->streams.empty());
  const auto bad = by_name(v, "binance")->ws_handshake("/stream", {{"streams", "nope"}});
  REQUIRE(bad);
  CHECK(bad->reject == "invalid-stream");

  // USD-M: 200 streams per connection by default.
  std::string list;
  for (int i = 0; i < 201; ++i) list += (i ? "/" : "") + std::string("s") + std::to_string(i) + "usdt@kline_1m";
  const auto many = by_name(v, "binance-usdm")->ws_handshake("/market/stream", {{"streams", list}});
  REQUIRE(many);
  CHECK(many->reject == "too-many-streams");
  CHECK(by_name(v, "binance-usdm")->ws_rules().ctrl_limit_per_s == 10);
  CHECK(by_name(v, "binance")->ws_rules().ctrl_limit_per_s == 5);

  // With --usdm-legacy-paths /stream and /ws are USD-M's silent unrouted URLs.
  Options o = opts();
  o.usdm_legacy_paths = true;
  const VenueList legacy = make_venues(o);
  CHECK(ws_owner(legacy, "/stream", {{"streams", "btcusdt@kline_1m"}}) == "binance-usdm");
  const auto silent = by_name(legacy, "binance-usdm")->ws_handshake("/ws", {});
  REQUIRE(silent);
  CHECK(silent->silent);
}

TEST_CASE("OKX: subscribe, errors, text ping and the candle push", "[fake][venues][okx]") {
  const VenueList v = make_venues(opts());
  Venue& okx = *by_name(v, "okx");
  simdjson::dom::parser p;

  const WsAction ping = send(okx, "/ws/v5/business", "ping");
  REQUIRE(ping.pong);
  CHECK(*ping.pong == "pong");
  CHECK(ping.replies.empty());

  const WsAction sub = send(okx, "/ws/v5/business",
                            R"({"id":"7","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"},)"
                            R"({"channel":"candle1Dutc","instId":"BTC-USDT-SWAP"}]})");
  REQUIRE(sub.subscribe == std::vector<std::string>{"candle1m:BTC-USDT", "candle1Dutc:BTC-USDT-SWAP"});
  REQUIRE(sub.replies.size() == 2);
  auto ack = parse(p, sub.replies[0]);
  CHECK(std::string_view(ack["event"]) == "subscribe");
  CHECK(std::string_view(ack["id"]) == "7");
  CHECK(std::string_view(ack["arg"]["channel"]) == "candle1m");
  CHECK(std::string_view(ack["arg"]["instId"]) == "BTC-USDT");
  CHECK(!std::string_view(ack["connId"]).empty());

  const ParsedStream t = okx.parse_topic("candle1Dutc:BTC-USDT-SWAP");
  REQUIRE(t.kline);
  CHECK(t.kline->interval == "1d");
  CHECK(okx_interval("1H") == std::optional<std::string_view>("1h"));
  CHECK(!okx_interval("1D"));  // Hong Kong time bars are not served
  CHECK(!okx_interval("1h"));

  for (const char* msg : {"not json", R"({"op":"login","args":[]})"}) {
    const WsAction e = send(okx, "/ws/v5/business", msg);
    REQUIRE(e.replies.size() == 1);
    auto err = parse(p, e.replies[0]);
    CHECK(std::string_view(err["event"]) == "error");
    CHECK(std::string_view(err["code"]) == "60012");
  }
  // Candles on /public, an unknown channel: 60018, nothing subscribed.
  for (const char* path : {"/ws/v5/public", "/ws/v5/business"}) {
    const WsAction e = send(okx, path,
                            std::string(path) == "/ws/v5/public"
                                ? R"({"op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"}]})"
                                : R"({"op":"subscribe","args":[{"channel":"candle7m","instId":"BTC-USDT"}]})");
    CHECK(e.subscribe.empty());
    REQUIRE(e.replies.size() == 1);
    CHECK(std::string_view(parse(p, e.replies[0])["code"]) == "60018");
  }
  CHECK(send(okx, "/ws/v5/public", R"({"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]})")
            .subscribe.size() == 1);

  // Push: all strings, ts = bar open, confirm "1" only on the closing push; swap vol in contracts.
  const BarUnits bar = truth_units("BTC-USDT-SWAP", "1m", kT0);
  const std::string push =
      okx.kline_push("candle1m:BTC-USDT-SWAP", StreamKey{"BTC-USDT-SWAP", "1m"}, kT0 + 5, bar, true, true);
  auto doc = parse(p, push);
  CHECK(std::string_view(doc["arg"]["channel"]) == "candle1m");
  CHECK(std::string_view(doc["arg"]["instId"]) == "BTC-USDT-SWAP");
  simdjson::dom::array row = doc["data"].at(0);
  CHECK(std::string_view(row.at(0)) == std::to_string(kT0));
  CHECK(std::string_view(row.at(1)) == format_units(bar.open));
  CHECK(std::string_view(row.at(5)) == std::to_string(bar.volume / 1'000'000));  // ctVal 0.01
  CHECK(std::string_view(row.at(6)) == format_units(bar.volume));
  CHECK(std::string_view(row.at(7)) == format_units(bar.quote_volume));
  CHECK(std::string_view(row.at(8)) == "1");
  const std::string forming =
      okx.kline_push("candle1m:BTC-USDT", StreamKey{"BTC-USDT", "1m"}, kT0 + 5, bar, false, true);
  simdjson::dom::array frow = parse(p, forming)["data"].at(0);
  CHECK(std::string_view(frow.at(5)) == format_units(bar.volume));        // spot vol: base
  CHECK(std::string_view(frow.at(6)) == format_units(bar.quote_volume));  // spot volCcy: quote
  CHECK(std::string_view(frow.at(8)) == "0");
}

TEST_CASE("OKX REST: newest first, after/before, depth, limits and errors", "[fake][venues][okx]") {
  Rest rest;
  simdjson::dom::parser p;
  auto rows = [&](const HttpResponse& r) {
    REQUIRE(r.status == 200);
    auto doc = parse(p, r.body);
    CHECK(std::string_view(doc["code"]) == "0");
    std::vector<std::int64_t> ts;
    for (simdjson::dom::element row : doc["data"].get_array())
      ts.push_back(std::stoll(std::string(std::string_view(row.at(0)))));
    return ts;
  };
  const auto latest = rows(rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"}, {"limit", "3"}}));
  CHECK(latest == std::vector<std::int64_t>{kT0, kT0 - kMin, kT0 - 2 * kMin});
  // The forming bar is unconfirmed, closed ones confirmed.
  auto doc = parse(p, rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"}, {"limit", "2"}}).body);
  CHECK(std::string_view(doc["data"].at(0).at(8)) == "0");
  CHECK(std::string_view(doc["data"].at(1).at(8)) == "1");
  CHECK(std::string_view(doc["data"].at(1).at(4)) == format_units(truth_units("BTC-USDT", "1m", kT0 - kMin).close));

  CHECK(rows(rest.get("/api/v5/market/candles",
                      {{"instId", "BTC-USDT"}, {"after", std::to_string(kT0 - kMin)}, {"limit", "2"}})) ==
        std::vector<std::int64_t>{kT0 - 2 * kMin, kT0 - 3 * kMin});
  CHECK(rows(rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"},
                                                  {"before", std::to_string(kT0 - 3 * kMin)},
                                                  {"after", std::to_string(kT0)}})) ==
        std::vector<std::int64_t>{kT0 - kMin, kT0 - 2 * kMin});
  // Limits: candles <= 300, history <= 100; candles only reach 1440 bars back.
  CHECK(rows(rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"}, {"limit", "999"}})).size() == 300);
  CHECK(rows(rest.get("/api/v5/market/history-candles", {{"instId", "BTC-USDT"}, {"limit", "999"}})).size() == 100);
  CHECK(rows(rest.get("/api/v5/market/candles",
                      {{"instId", "BTC-USDT"}, {"after", std::to_string(kT0 - 1440 * kMin)}}))
            .empty());
  const auto old = rows(rest.get("/api/v5/market/history-candles",
                                 {{"instId", "BTC-USDT"}, {"after", std::to_string(kT0 - 2000 * kMin)}, {"limit", "1"}}));
  CHECK(old == std::vector<std::int64_t>{kT0 - 2001 * kMin});
  CHECK(rows(rest.get("/api/v5/market/candles", {{"instId", "ETH-USDT"}, {"bar", "1H"}, {"limit", "1"}})) ==
        std::vector<std::int64_t>{kT0});

  auto err = [&](const HttpResponse& r) { return std::string(std::string_view(parse(p, r.body)["code"])); };
  CHECK(err(rest.get("/api/v5/market/candles", {{"instId", "GONE-USDT"}})) == "51001");
  CHECK(err(rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"}, {"bar", "1D"}})) == "51000");
  CHECK(err(rest.get("/api/v5/market/candles", {})) == "50014");
  const auto time = parse(p, rest.get("/api/v5/public/time", {}).body);
  CHECK(std::string_view(time["data"].at(0)["ts"]) == std::to_string(kT0 + 30'000));

  // 20 history requests per 2 s, then 429 code 50011; a new window serves again.
  rest.real_ms = 2'000'000;
  for (int i = 0; i < 20; ++i)
    CHECK(rest.get("/api/v5/market/history-candles", {{"instId", "BTC-USDT"}}).status == 200);
  const HttpResponse limited = rest.get("/api/v5/market/history-candles", {{"instId", "BTC-USDT"}});
  CHECK(limited.status == 429);
  CHECK(limited.rate_limited);
  CHECK(err(limited) == "50011");
  rest.real_ms += 2000;
  CHECK(rest.get("/api/v5/market/history-candles", {{"instId", "BTC-USDT"}}).status == 200);
  // Injected rest-429 gets the same answer.
  rest.faults = 1;
  const HttpResponse injected = rest.get("/api/v5/market/candles", {{"instId", "BTC-USDT"}});
  CHECK(injected.status == 429);
  CHECK(err(injected) == "50011");
}

TEST_CASE("Bybit: subscribe limits, ping/pong and the kline push", "[fake][venues][bybit]") {
  const VenueList v = make_venues(opts());
  Venue& bybit = *by_name(v, "bybit");
  simdjson::dom::parser p;

  const WsAction sub = send(bybit, "/v5/public/spot", R"({"req_id":"7","op":"subscribe","args":["kline.1.BTCUSDT"]})");
  CHECK(sub.subscribe == std::vector<std::string>{"kline.1.BTCUSDT"});
  REQUIRE(sub.replies.size() == 1);
  auto ack = parse(p, sub.replies[0]);
  CHECK(bool(ack["success"]));
  CHECK(std::string_view(ack["req_id"]) == "7");
  CHECK(std::string_view(ack["op"]) == "subscribe");
  CHECK(std::string_view(ack["ret_msg"]) == "subscribe");  // spot; linear says ""
  CHECK(!std::string_view(ack["conn_id"]).empty());
  CHECK(std::string_view(parse(p, send(bybit, "/v5/public/linear",
                                       R"({"op":"subscribe","args":["kline.D.BTCUSDT"]})").replies[0])["ret_msg"]) == "");

  std::string eleven = R"({"req_id":"8","op":"subscribe","args":[)";
  for (int i = 0; i < 11; ++i) eleven += (i ? "," : "") + std::string("\"kline.1.S") + std::to_string(i) + "USDT\"";
  eleven += "]}";
  const WsAction too_many = send(bybit, "/v5/public/spot", eleven);
  CHECK(too_many.subscribe.empty());
  auto fail = parse(p, too_many.replies.at(0));
  CHECK(!bool(fail["success"]));
  CHECK(std::string_view(fail["req_id"]) == "8");
  CHECK(send(bybit, "/v5/public/linear", eleven).subscribe.size() == 11);  // spot-only rule
  CHECK(!bool(parse(p, send(bybit, "/v5/public/spot", R"({"op":"subscribe","args":["kline.2.BTCUSDT"]})").replies[0])["success"]));

  const WsAction ping = send(bybit, "/v5/public/spot", R"({"op":"ping","req_id":"100001"})");
  REQUIRE(ping.pong);
  auto pong = parse(p, *ping.pong);
  CHECK(bool(pong["success"]));
  CHECK(std::string_view(pong["ret_msg"]) == "pong");
  CHECK(std::string_view(pong["op"]) == "ping");
  CHECK(std::string_view(pong["req_id"]) == "100001");

  const BarUnits bar = truth_units("BTCUSDT", "1h", kT0);
  auto push = parse(p, bybit.kline_push("kline.60.BTCUSDT", StreamKey{"BTCUSDT", "1h"}, kT0 + 9, bar, true, true));
  CHECK(std::string_view(push["topic"]) == "kline.60.BTCUSDT");
  CHECK(std::string_view(push["type"]) == "snapshot");
  CHECK(std::int64_t(push["ts"]) == kT0 + 9);
  auto d = push["data"].at(0);
  CHECK(std::int64_t(d["start"]) == kT0);
  CHECK(std::int64_t(d["end"]) == kT0 + 3'600'000 - 1);
  CHECK(std::string_view(d["interval"]) == "60");
  CHECK(std::string_view(d["high"]) == format_units(bar.high));
  CHECK(std::string_view(d["volume"]) == format_units(bar.volume));
  CHECK(std::string_view(d["turnover"]) == format_units(bar.quote_volume));
  CHECK(bool(d["confirm"]));
  CHECK(bybit_interval("D") == std::optional<std::string_view>("1d"));
  CHECK(!bybit_interval("2"));
}

TEST_CASE("Bybit REST: newest first, errors, 10006 fault and the 403 ban", "[fake][venues][bybit]") {
  Rest rest;
  simdjson::dom::parser p;
  const HttpResponse ok = rest.get("/v5/market/kline", {{"category", "spot"}, {"symbol", "BTCUSDT"},
                                                         {"interval", "1"}, {"limit", "3"}});
  REQUIRE(ok.status == 200);
  auto doc = parse(p, ok.body);
  CHECK(std::int64_t(doc["retCode"]) == 0);
  CHECK(std::string_view(doc["result"]["category"]) == "spot");
  simdjson::dom::array list = doc["result"]["list"];
  REQUIRE(list.size() == 3);
  CHECK(std::string_view(list.at(0).at(0)) == std::to_string(kT0));
  CHECK(std::string_view(list.at(2).at(0)) == std::to_string(kT0 - 2 * kMin));
  const BarUnits b = truth_units("BTCUSDT", "1m", kT0 - kMin);
  CHECK(std::string_view(list.at(1).at(4)) == format_units(b.close));
  CHECK(std::string_view(list.at(1).at(6)) == format_units(b.quote_volume));
  const auto ranged = parse(p, rest.get("/v5/market/kline", {{"symbol", "BTCUSDT"}, {"interval", "1"},
                                                              {"start", std::to_string(kT0 - 10 * kMin)},
                                                              {"end", std::to_string(kT0 - 8 * kMin)}}).body);
  CHECK(std::string_view(ranged["result"]["category"]) == "linear");  // the default
  CHECK(ranged["result"]["list"].get_array().size() == 3);

  CHECK(std::int64_t(parse(p, rest.get("/v5/market/kline", {{"category", "spot"}, {"symbol", "DELISTED"}, {"interval", "1"}}).body)["retCode"]) == 10001);
  CHECK(std::int64_t(parse(p, rest.get("/v5/market/kline", {{"symbol", "BTCUSDT"}, {"interval", "2"}}).body)["retCode"]) == 10001);
  const auto time = parse(p, rest.get("/v5/market/time", {}).body);
  CHECK(std::string_view(time["result"]["timeNano"]) == std::to_string(kT0 + 30'000) + "000000");

  rest.faults = 1;  // rest-429: retCode 10006 with the reset timestamp
  const HttpResponse visits = rest.get("/v5/market/kline", {{"symbol", "BTCUSDT"}, {"interval", "1"}});
  CHECK(visits.status == 200);
  CHECK(std::int64_t(parse(p, visits.body)["retCode"]) == 10006);
  REQUIRE(!visits.headers.empty());
  CHECK(visits.headers[0].first == "X-Bapi-Limit-Reset-Timestamp:");
  CHECK(visits.headers[0].second == std::to_string(kT0 + 30'000 + 7'000));

  // 600 requests per 5 s, then 403 and a ban that outlives the window (default 10 min).
  rest.real_ms = 5'000'000;
  for (int i = 0; i < 600; ++i) REQUIRE(rest.get("/v5/market/time", {}).status == 200);
  const HttpResponse ban = rest.get("/v5/market/time", {});
  CHECK(ban.status == 403);
  CHECK(ban.body == "access too frequent");
  rest.real_ms += 60'000;
  CHECK(rest.get("/v5/market/kline", {{"symbol", "BTCUSDT"}, {"interval", "1"}}).status == 403);
  rest.real_ms += 600'000;
  CHECK(rest.get("/v5/market/time", {}).status == 200);
}

TEST_CASE("Binance USD-M REST: 1500 rows, weight by limit, own budget", "[fake][venues][binance]") {
  CHECK(usdm_klines_weight(99) == 1);
  CHECK(usdm_klines_weight(100) == 2);
  CHECK(usdm_klines_weight(500) == 5);
  CHECK(usdm_klines_weight(1000) == 5);
  CHECK(usdm_klines_weight(1001) == 10);
  Rest rest;
  const HttpResponse r = rest.get("/fapi/v1/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"limit", "1500"}});
  CHECK(r.rows == 1500);
  CHECK(r.used_weight == 10);
  CHECK(rest.get("/api/v3/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"limit", "1500"}}).rows == 1000);
  CHECK(rest.get("/fapi/v1/time", {}).used_weight == 11);  // USD-M and spot budgets are separate
  for (int i = 0; i < 239; ++i) (void)rest.get("/fapi/v1/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"limit", "1001"}});
  const HttpResponse over = rest.get("/fapi/v1/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}});
  CHECK(over.status == 429);  // 2400 per minute
  CHECK(rest.get("/api/v3/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}}).status == 200);
  rest.faults = 1;
  rest.fault_kind = RestFault::kBan;
  CHECK(rest.get("/api/v3/klines", {{"symbol", "BTCUSDT"}, {"interval", "1m"}}).status == 418);
}

TEST_CASE("price levels follow the instrument's assets, the same on every venue", "[fake][market]") {
  const std::int64_t btc = price_level_units("BTCUSDT");
  CHECK(btc == 90'000 * kUnitsPerWhole);
  CHECK(price_level_units("BTC-USDT") == btc);
  CHECK(price_level_units("BTC-USDT-SWAP") == btc);
  CHECK(price_level_units("ETHUSDT") == 3'000 * kUnitsPerWhole);
  CHECK(price_level_units("SOL-USDT") == 150 * kUnitsPerWhole);
  CHECK(price_level_units("BTCFDUSD") == btc);
  CHECK(price_level_units("ETHBTC") == 3'000 * kUnitsPerWhole / 90'000);
  for (const char* s : {"PEPEUSDT", "ZZZUSDT", "FOO-USDT", "ABC"}) {
    const std::int64_t l = price_level_units(s);
    CHECK(l >= 100'000);                     // >= 0.001
    CHECK(l < 10'000 * kUnitsPerWhole);      // < 10,000
  }
  CHECK(price_level_units("FOO-USDT") == price_level_units("FOOUSDT"));
  // The truth stays within ~25% of its level over a month of 1h bars.
  for (const char* s : {"BTCUSDT", "BTC-USDT-SWAP", "ETHUSDT", "SOLUSDT"}) {
    const double level = static_cast<double>(price_level_units(s));
    for (std::int64_t t = kT0; t < kT0 + 30LL * 86'400'000; t += 3'600'000) {
      const BarUnits b = truth_units(s, "1h", t);
      REQUIRE(static_cast<double>(b.low) > 0.75 * level);
      REQUIRE(static_cast<double>(b.high) < 1.25 * level);
    }
  }
  // OKX swaps trade whole contracts.
  CHECK(contract_value_units("BTC-USDT-SWAP") == kUnitsPerWhole / 100);
  CHECK(contract_value_units("ETH-USDT-SWAP") == kUnitsPerWhole / 10);
  CHECK(contract_value_units("BTC-USDT") == 0);
  for (std::int64_t t = kT0; t < kT0 + 100 * kMin; t += kMin) {
    CHECK(truth_units("BTC-USDT-SWAP", "1m", t).volume % (kUnitsPerWhole / 100) == 0);
    CHECK(forming_units("ETH-USDT-SWAP", "1m", t, t + 7'000).volume % (kUnitsPerWhole / 10) == 0);
  }
}

TEST_CASE("ignore-pings parses; --dump-truth prints the truth", "[fake][commands]") {
  const CommandParse c = parse_command("ignore-pings 2.5");
  REQUIRE(c.command);
  CHECK(c.command->kind == CommandKind::kIgnorePings);
  CHECK(c.command->seconds == 2.5);
  CHECK(!parse_command("ignore-pings").command);

  std::string out, error;
  REQUIRE(dump_truth("BTC-USDT-SWAP,1m," + std::to_string(kT0 + 5) + ",2", out, error));
  simdjson::dom::parser p;
  simdjson::dom::document_stream lines;
  REQUIRE(p.parse_many(out).get(lines) == simdjson::SUCCESS);
  std::int64_t expect = kT0;
  for (auto line : lines) {
    simdjson::dom::element e = line.value();
    CHECK(std::int64_t(e["t"]) == expect);
    CHECK(std::string_view(e["o"]) == format_units(truth_units("BTC-USDT-SWAP", "1m", expect).open));
    CHECK(std::string_view(e["ct"]) == "0.01000000");
    expect += kMin;
  }
  CHECK(expect == kT0 + 2 * kMin);
  CHECK(!dump_truth("BTCUSDT,7m,0,1", out, error));
}
