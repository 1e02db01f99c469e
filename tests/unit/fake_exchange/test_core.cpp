// The fake exchange's protocol pieces without a network: stream cursors (no bar ever skipped),
// skip-close rules, REST klines semantics and errors, the weight window, the command language,
// client control messages, junk frames and capture replay.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <mdfeed/names.hpp>
#include <sstream>

#include "fake_exchange/commands.hpp"
#include "fake_exchange/control.hpp"
#include "fake_exchange/market.hpp"
#include "fake_exchange/options.hpp"
#include "fake_exchange/replay.hpp"
#include "fake_exchange/rest.hpp"
#include "fake_exchange/streams.hpp"
#include "fake_exchange/wire.hpp"

using namespace mdfeed;
using namespace mdfeed::fake;

namespace {

constexpr std::int64_t kT0 = 1'699'920'000'000;  // a 1d boundary
constexpr std::int64_t kMin = 60'000;

StreamKey btc(const char* iv = "1m") { return StreamKey{"BTCUSDT", iv}; }

// Drains everything a cursor owes at sim_now; returns (kind, open) pairs.
std::vector<Emit> drain(StreamCursor& c, std::int64_t sim_now, const SkipRules& skips) {
  std::vector<Emit> out;
  for (int i = 0; i < 100'000; ++i) {
    const Emit e = c.next(sim_now, false, skips);
    if (e.kind == EmitKind::kNone) break;
    out.push_back(e);
  }
  return out;
}

simdjson::dom::element parse_json(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element doc;
  REQUIRE(p.parse(s).get(doc) == simdjson::SUCCESS);
  return doc;
}

}  // namespace

// --- streams ------------------------------------------------------------------------------------

TEST_CASE("stream names: kline streams carry keys, other well-formed names are accepted",
          "[fake][streams]") {
  const ParsedStream k = parse_stream_name("btcusdt@kline_1m");
  REQUIRE(k.valid);
  REQUIRE(k.kline);
  CHECK(k.kline->symbol == "BTCUSDT");
  CHECK(k.kline->interval == "1m");
  CHECK(parse_stream_name("ethbtc@kline_1M").kline->interval == "1M");
  CHECK(parse_stream_name("btcusdt@depth@100ms").valid);
  CHECK_FALSE(parse_stream_name("btcusdt@depth@100ms").kline);
  CHECK(parse_stream_name("!ticker@arr").valid);
  CHECK_FALSE(parse_stream_name("btcusdt@kline_7m").kline);  // valid name, not a kline interval
  CHECK_FALSE(parse_stream_name("BTCUSDT@kline_1m").valid);  // Binance names are lowercase
  CHECK_FALSE(parse_stream_name("btcusdt").valid);
  CHECK_FALSE(parse_stream_name("@kline_1m").valid);
  CHECK_FALSE(parse_stream_name("btcusdt@").valid);
  CHECK_FALSE(parse_stream_name("btc usdt@kline_1m").valid);
  CHECK_FALSE(parse_stream_name("").valid);
  CHECK_FALSE(parse_stream_name(std::string(200, 'a') + "@kline_1m").valid);

  CHECK(valid_symbol("BTCUSDT"));
  CHECK_FALSE(valid_symbol("btcusdt"));
  CHECK_FALSE(valid_symbol(""));
  CHECK_FALSE(valid_symbol("ABCDEFGHIJKLMNOPQRSTU"));  // 21 chars

  CHECK(split_list("a/b/c", '/', 10) == std::vector<std::string_view>{"a", "b", "c"});
  CHECK(split_list("a//", '/', 10) == std::vector<std::string_view>{"a", "", ""});
  CHECK(split_list("", '/', 10).empty());
  CHECK(split_list("a/b/c/d/e", '/', 2).size() == 3);  // capped: caller sees "too many"
}

TEST_CASE("a cursor owes one close per bar, in order, however far the clock jumps",
          "[fake][streams]") {
  SkipRules none;
  StreamCursor c(btc(), kT0 + 1'000);
  // First message: the forming bar it joined.
  auto first = drain(c, kT0 + 1'000, none);
  REQUIRE(first.size() == 1);
  CHECK(first[0].kind == EmitKind::kForming);
  CHECK(first[0].open_ms == kT0);
  CHECK(drain(c, kT0 + 2'000, none).empty());  // nothing due until marked or a bar ends

  // The clock jumps 10.5 bars: 10 closes in order, then one forming update once marked.
  c.mark_update_due();
  const auto burst = drain(c, kT0 + 10 * kMin + 30'000, none);
  REQUIRE(burst.size() == 11);
  for (int i = 0; i < 10; ++i) {
    CHECK(burst[static_cast<std::size_t>(i)].kind == EmitKind::kClose);
    CHECK(burst[static_cast<std::size_t>(i)].open_ms == kT0 + i * kMin);
  }
  CHECK(burst[10].kind == EmitKind::kForming);
  CHECK(burst[10].open_ms == kT0 + 10 * kMin);

  // Exactly at the boundary the bar has ended (sim_now >= next open).
  CHECK_FALSE(c.close_owed(kT0 + 11 * kMin - 1));
  CHECK(c.close_owed(kT0 + 11 * kMin));
}

TEST_CASE("flood mode forces a forming update on every pull", "[fake][streams]") {
  SkipRules none;
  StreamCursor c(btc(), kT0);
  for (int i = 0; i < 5; ++i) CHECK(c.next(kT0 + i, true, none).kind == EmitKind::kForming);
  const Emit close = c.next(kT0 + kMin, true, none);
  CHECK(close.kind == EmitKind::kClose);  // closes still come first and in order
  CHECK(close.open_ms == kT0);
}

TEST_CASE("skip-close suppresses exactly N closes of one stream", "[fake][streams]") {
  SkipRules skips;
  skips.add(btc(), kT0 + 2 * kMin, 3);  // bars 2, 3, 4
  StreamCursor c(btc(), kT0);
  StreamCursor other(btc("3m"), kT0);
  const auto emits = drain(c, kT0 + 8 * kMin, skips);
  std::vector<EmitKind> kinds;
  for (const Emit& e : emits) kinds.push_back(e.kind);
  // Owed closes come before the (initially due) forming update of the current bar.
  CHECK(kinds == std::vector<EmitKind>{EmitKind::kClose, EmitKind::kClose,
                                       EmitKind::kSuppressedClose, EmitKind::kSuppressedClose,
                                       EmitKind::kSuppressedClose, EmitKind::kClose,
                                       EmitKind::kClose, EmitKind::kClose, EmitKind::kForming});
  CHECK(emits.back().open_ms == kT0 + 8 * kMin);
  CHECK(skips.suppressed(btc(), kT0 + 4 * kMin));
  CHECK_FALSE(skips.suppressed(btc(), kT0 + 5 * kMin));
  CHECK_FALSE(skips.suppressed(btc("3m"), kT0 + 3 * kMin));
  for (const Emit& e : drain(other, kT0 + 30 * kMin, skips))
    CHECK(e.kind != EmitKind::kSuppressedClose);

  SkipRules monthly;
  monthly.add(StreamKey{"BTCUSDT", "1M"}, 1'704'067'200'000, 2);  // Jan and Feb 2024
  CHECK(monthly.suppressed(StreamKey{"BTCUSDT", "1M"}, 1'706'745'600'000));
  CHECK_FALSE(monthly.suppressed(StreamKey{"BTCUSDT", "1M"}, 1'709'251'200'000));
}

// --- REST ---------------------------------------------------------------------------------------

TEST_CASE("kline_open_times follows Binance's startTime/endTime/limit semantics", "[fake][rest]") {
  MarketView m;
  m.sim_now_ms = kT0 + 10 * kMin + 5'000;  // bar 10 is forming
  m.history_start_ms = kT0 - 100 * kMin;

  // No range: the most recent `limit`, ending with the forming bar.
  auto v = kline_open_times("1m", std::nullopt, std::nullopt, 3, m);
  CHECK(v == std::vector<std::int64_t>{kT0 + 8 * kMin, kT0 + 9 * kMin, kT0 + 10 * kMin});
  // startTime inside a bar: that bar (opened before startTime) is not included.
  v = kline_open_times("1m", kT0 + 1, std::nullopt, 2, m);
  CHECK(v == std::vector<std::int64_t>{kT0 + kMin, kT0 + 2 * kMin});
  v = kline_open_times("1m", kT0, std::nullopt, 2, m);
  CHECK(v.front() == kT0);
  // endTime includes the bar opening at or before it.
  v = kline_open_times("1m", kT0, kT0 + 2 * kMin + 59'999, 100, m);
  CHECK(v == std::vector<std::int64_t>{kT0, kT0 + kMin, kT0 + 2 * kMin});
  // Only endTime: the last `limit` bars up to it.
  v = kline_open_times("1m", std::nullopt, kT0 + 5 * kMin, 2, m);
  CHECK(v == std::vector<std::int64_t>{kT0 + 4 * kMin, kT0 + 5 * kMin});
  // Never in the future, never before the history start.
  v = kline_open_times("1m", kT0 + 9 * kMin, kT0 + 100 * kMin, 100, m);
  CHECK(v == std::vector<std::int64_t>{kT0 + 9 * kMin, kT0 + 10 * kMin});
  CHECK(kline_open_times("1m", kT0 + 11 * kMin, std::nullopt, 10, m).empty());
  v = kline_open_times("1m", 0, std::nullopt, 1000, m);
  CHECK(v.size() == 111);
  CHECK(v.front() == kT0 - 100 * kMin);
  CHECK(kline_open_times("1m", std::nullopt, std::nullopt, 5000, m).size() == 111);
  MarketView deep = m;
  deep.history_start_ms = 0;
  CHECK(kline_open_times("1m", std::nullopt, std::nullopt, 5000, deep).size() == 1000);
  // History that starts mid-bar begins with the next full bar.
  MarketView mid = m;
  mid.history_start_ms = kT0 + 30'000;
  CHECK(kline_open_times("1m", 0, std::nullopt, 10, mid).front() == kT0 + kMin);
}

TEST_CASE("klines_response rows are truth, the forming row is as it stands", "[fake][rest]") {
  MarketView m;
  m.sim_now_ms = kT0 + 2 * kMin + 30'000;
  m.history_start_ms = kT0 - 1'000 * kMin;
  const HttpResponse r = klines_response(
      {{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"startTime", std::to_string(kT0)}}, m);
  REQUIRE(r.status == 200);
  CHECK(r.rows == 3);
  CHECK(r.body == "[" + rest_row(truth_units("BTCUSDT", "1m", kT0)) + "," +
                      rest_row(truth_units("BTCUSDT", "1m", kT0 + kMin)) + "," +
                      rest_row(forming_units("BTCUSDT", "1m", kT0 + 2 * kMin, m.sim_now_ms)) + "]");
  simdjson::dom::parser p;
  simdjson::dom::array rows = parse_json(p, r.body).get_array();
  CHECK(rows.size() == 3);
  // Default limit 500, capped at 1000.
  CHECK(klines_response({{"symbol", "BTCUSDT"}, {"interval", "1m"}}, m).rows == 500);
  CHECK(klines_response({{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"limit", "5000"}}, m).rows ==
        1000);
}

TEST_CASE("klines_response errors use Binance's codes", "[fake][rest]") {
  const std::vector<std::string> invalid = {"DELISTED"};
  MarketView m;
  m.sim_now_ms = kT0;
  m.history_start_ms = kT0 - 1'000 * kMin;
  m.invalid_symbols = &invalid;
  auto code_of = [&](const QueryArgs& args) {
    const HttpResponse r = klines_response(args, m);
    CHECK(r.status == 400);
    simdjson::dom::parser p;
    return std::int64_t(parse_json(p, r.body)["code"]);
  };
  CHECK(code_of({{"symbol", "DELISTED"}, {"interval", "1m"}}) == -1121);
  CHECK(klines_response({{"symbol", "DELISTED"}, {"interval", "1m"}}, m).body ==
        R"({"code":-1121,"msg":"Invalid symbol."})");
  CHECK(code_of({{"symbol", "BTCUSDT"}, {"interval", "7m"}}) == -1120);
  CHECK(code_of({{"symbol", "btcusdt"}, {"interval", "1m"}}) == -1100);
  CHECK(code_of({{"interval", "1m"}}) == -1102);
  CHECK(code_of({{"symbol", "BTCUSDT"}}) == -1102);
  CHECK(code_of({{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"startTime", "abc"}}) == -1100);
  CHECK(code_of({{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"limit", "0"}}) == -1130);
  CHECK(
      code_of({{"symbol", "BTCUSDT"}, {"interval", "1m"}, {"startTime", "5"}, {"endTime", "4"}}) ==
      -1023);
}

TEST_CASE("time and error bodies", "[fake][rest]") {
  CHECK(time_response(1'699'920'000'123).body == R"({"serverTime":1699920000123})");
  const HttpResponse tm = too_many_requests(7, 6000);
  CHECK(tm.status == 429);
  CHECK(tm.retry_after_s == 7);
  CHECK(banned(30, 5).status == 418);
}

TEST_CASE("the weight window refuses past the per-minute limit and resets", "[fake][rest]") {
  WeightWindow w(6000);
  const std::int64_t t = 10 * 60'000 + 15'000;  // 45 s before the window ends
  for (int i = 0; i < 3000; ++i) REQUIRE(w.charge(2, t).allowed);
  const WeightWindow::Charge refused = w.charge(2, t);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.used == 6002);
  CHECK(refused.retry_after_s == 45);
  const WeightWindow::Charge next = w.charge(2, 11 * 60'000);
  CHECK(next.allowed);
  CHECK(next.used == 2);
  WeightWindow unlimited(0);
  for (int i = 0; i < 10'000; ++i) REQUIRE(unlimited.charge(2, t).allowed);
}

// --- commands and control messages --------------------------------------------------------------

TEST_CASE("fault commands parse strictly", "[fake][commands]") {
  auto kind = [](const char* line) {
    const CommandParse p = parse_command(line);
    REQUIRE(p.command);
    return p.command->kind;
  };
  CHECK(kind("drop") == CommandKind::kDrop);
  CHECK(kind("  stall 2.5 ") == CommandKind::kStall);
  CHECK(parse_command("stall 2.5").command->seconds == 2.5);
  CHECK(parse_command("garbage 10").command->count == 10);
  CHECK(parse_command("fragment on").command->on);
  CHECK_FALSE(parse_command("fragment off").command->on);
  const CommandParse skip = parse_command("skip-close ETHUSDT 1M 3");
  REQUIRE(skip.command);
  CHECK(skip.command->symbol == "ETHUSDT");
  CHECK(skip.command->interval == "1M");
  CHECK(skip.command->count == 3);
  CHECK(parse_command("rest-429 2").command->seconds == 1);
  CHECK(parse_command("rest-429 2 7").command->seconds == 7);
  CHECK(parse_command("rest-418 1 60").command->count == 1);
  CHECK(parse_command("shutdown-event").command->seconds < 0);
  CHECK(parse_command("shutdown-event 3").command->seconds == 3);
  CHECK(kind("outage 1") == CommandKind::kOutage);
  CHECK(kind("max-conn-age 0") == CommandKind::kMaxConnAge);
  CHECK(kind("pause-clock") == CommandKind::kPauseClock);
  CHECK(kind("stats") == CommandKind::kStats);

  for (const char* bad :
       {"", "   ", "explode", "stall", "stall -1", "stall x", "stall 1 2", "garbage 0",
        "garbage 1e3", "oversize 0", "fragment maybe", "skip-close btcusdt 1m 1",
        "skip-close BTCUSDT 2m 1", "skip-close BTCUSDT 1m 0", "rest-418 1", "rest-429", "drop now",
        "stall nan", "stall inf"}) {
    const CommandParse p = parse_command(bad);
    INFO(bad);
    CHECK_FALSE(p.command);
    CHECK_FALSE(p.error.empty());
  }
}

TEST_CASE("client control messages parse like Binance's", "[fake][control]") {
  simdjson::dom::parser parser(4096);
  ControlParse p = parse_control(
      parser, R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m","ethusdt@kline_5m"],"id":1})");
  REQUIRE(p.request);
  CHECK(p.request->method == ControlMethod::kSubscribe);
  CHECK(p.request->params == std::vector<std::string>{"btcusdt@kline_1m", "ethusdt@kline_5m"});
  CHECK(result_reply("null", p.request->id_json) == R"({"result":null,"id":1})");

  p = parse_control(parser, R"({"method":"LIST_SUBSCRIPTIONS","id":"abc-1"})");
  REQUIRE(p.request);
  CHECK(list_reply({"btcusdt@kline_1m"}, p.request->id_json) ==
        R"({"result":["btcusdt@kline_1m"],"id":"abc-1"})");

  p = parse_control(parser, R"({"method":"SET_PROPERTY","params":["combined",true],"id":5})");
  REQUIRE(p.request);
  CHECK(p.request->bool_value == true);

  auto error_code = [&](std::string_view msg) {
    const ControlParse e = parse_control(parser, msg);
    REQUIRE_FALSE(e.request);
    simdjson::dom::parser p2;
    return std::int64_t(parse_json(p2, e.error_reply)["error"]["code"]);
  };
  CHECK(error_code("not json") == 3);
  CHECK(error_code("[1,2]") == 3);
  CHECK(error_code(R"({"method":"SUBSCRIBE","params":["a@b"],"id":-1})") == 2);
  CHECK(error_code(R"({"method":"SUBSCRIBE","params":["a@b"],"id":1.5})") == 2);
  CHECK(error_code(R"({"method":"EXPLODE","id":1})") == 2);
  CHECK(error_code(R"({"params":[],"id":1})") == 2);
  CHECK(error_code(R"({"method":"SUBSCRIBE","params":"btcusdt@kline_1m","id":1})") == 2);
  CHECK(error_code(R"({"method":"SUBSCRIBE","params":[1],"id":1})") == 1);
  CHECK(error_code(R"({"method":"SET_PROPERTY","params":["speed",true],"id":1})") == 0);
  CHECK(error_code(R"({"method":"SET_PROPERTY","params":["combined","yes"],"id":1})") == 1);
  CHECK(error_code(std::string(5000, '{')) == 3);  // beyond the parser's capacity
  const ControlParse e = parse_control(parser, R"({"method":"EXPLODE","id":9})");
  CHECK(e.error_reply == R"({"error":{"code":2,"msg":"Invalid request: unknown method"},"id":9})");
}

// --- wire ---------------------------------------------------------------------------------------

TEST_CASE("garbage frames are never valid klines; oversize has the exact size", "[fake][wire]") {
  simdjson::dom::parser p;
  int parsed = 0;
  for (std::uint64_t i = 0; i < 2 * kGarbageKinds; ++i) {
    const std::string g = garbage_frame(i, btc(), kT0 + 1'234);
    simdjson::dom::element doc;
    if (p.parse(g).get(doc) != simdjson::SUCCESS) continue;
    ++parsed;
    // Whatever parses must lack a usable kline: a missing or mistyped close price.
    std::string_view close;
    CHECK(doc["data"]["k"]["c"].get(close) != simdjson::SUCCESS);
  }
  CHECK(parsed == 2 * 3);  // kinds 2, 3 and 5 are valid JSON, kinds 0, 1, 4 are not
  for (std::size_t n : {1u, 10u, 31u, 32u, 1000u, 1u << 20}) CHECK(oversize_message(n).size() == n);
  CHECK(parse_json(p, oversize_message(100)).is_object());
  CHECK(shutdown_event(5, false) == R"({"e":"serverShutdown","E":5})");
  CHECK(shutdown_event(5, true) ==
        R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":5}})");
}

// --- replay -------------------------------------------------------------------------------------

TEST_CASE("captures parse and the replay schedule loops", "[fake][replay]") {
  std::istringstream in(
      "wss://x/stream?streams=a@kline_1m <-> 100.0\n"
      "100.5: {\"a\":1}\n"
      "garbage line\n"
      "101.5: {\"a\":2}\n"
      "101.0: {\"a\":3}\n"
      "\n");
  Capture cap;
  std::string err;
  REQUIRE(parse_capture(in, cap, err));
  CHECK(cap.url == "wss://x/stream?streams=a@kline_1m");
  CHECK(cap.payloads == std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"});
  CHECK(cap.offsets_us == std::vector<std::int64_t>{0, 1'000'000, 1'000'000});  // clamped
  CHECK(cap.first_recv_ms == 100'500);

  const ReplaySchedule s(cap, 2.0);  // loop = (1 s span + 1 s gap) / 2 = 1 s real
  CHECK(s.due_count(0) == 1);
  CHECK(s.due_count(499'999) == 1);
  CHECK(s.due_count(500'000) == 3);
  CHECK(s.due_count(1'000'000) == 4);
  CHECK(s.due_count(10'500'000) == 33);
  CHECK(s.payload(4) == "{\"a\":2}");

  std::istringstream empty("url <-> 1\n\n");
  CHECK_FALSE(parse_capture(empty, cap, err));
}

TEST_CASE("the real Binance capture loads", "[fake][replay]") {
  const char* dir = std::getenv("MDFEED_FIXTURES");
  if (!dir) {
    WARN("MDFEED_FIXTURES not set; run through ctest");
    return;
  }
  std::ifstream in(std::string(dir) + "/binance/BINANCE.ws.1.0");
  REQUIRE(in);
  Capture cap;
  std::string err;
  REQUIRE(parse_capture(in, cap, err));
  CHECK(cap.payloads.size() == 265);
  CHECK(cap.url.rfind("wss://stream.binance.com:9443/stream?streams=", 0) == 0);
  CHECK(cap.payloads.front().rfind("{\"stream\":", 0) == 0);
}

TEST_CASE("--venue-update-ms sets each venue's push period; unknown venues are refused",
          "[fake][options]") {
  using mdfeed::fake::parse_cli;
  const char* argv[] = {"fake", "--cert", "c.pem", "--key", "k.pem", "--update-ms", "2000",
                        "--venue-update-ms", "binance-usdm=250,okx=1000"};
  const auto r = parse_cli(static_cast<int>(std::size(argv)), argv);
  CHECK(mdfeed::fake::update_ms_for(r.options, "binance") == 2000);
  CHECK(mdfeed::fake::update_ms_for(r.options, "binance-usdm") == 250);
  CHECK(mdfeed::fake::update_ms_for(r.options, "okx") == 1000);
  CHECK(mdfeed::fake::update_ms_for(r.options, "bybit") == 2000);
  CHECK(mdfeed::fake::shortest_update_ms(r.options) == 250);
  const char* bad[] = {"fake", "--cert", "c.pem", "--key", "k.pem", "--venue-update-ms", "kraken=5"};
  CHECK_THROWS_WITH(parse_cli(static_cast<int>(std::size(bad)), bad), Catch::Contains("unknown venue"));
  const char* zero[] = {"fake", "--cert", "c.pem", "--key", "k.pem", "--venue-update-ms", "okx=0"};
  CHECK_THROWS(parse_cli(static_cast<int>(std::size(zero)), zero));
}
