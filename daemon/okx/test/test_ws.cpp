// The OKX WebSocket protocol: real traffic (fixtures/okx/OKX.ws.1.0: trades, books, tickers and
// subscribe acks on /ws/v5/public), OKX's documented candle push, malformed messages, control
// frames and the ping heartbeat.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "okx/spec.hpp"
#include "venue/test/capture.hpp"

namespace {

using mdfeed::kBarClosed;
using mdfeed::kBarNoTrades;
using mdfeed::venue::Event;
using mdfeed::venue::EventKind;
using mdfeed::venue::kParsePadding;
using mdfeed::venue::WsProtocol;
const auto& kSpec = mdfeed::okx::kSpec;

// Parses s from a padded copy; the event's views point into that copy until the next call.
Event parse(WsProtocol& p, std::string_view s) {
  static std::vector<char> buf;
  buf.assign(s.begin(), s.end());
  buf.resize(s.size() + kParsePadding, '\0');
  return p.parse(buf.data(), s.size(), buf.size());
}

// OKX v5 docs, "WS / Candlesticks channel", push data example (channel candle1D: Hong Kong
// time, which mdfeed does not serve).
constexpr std::string_view kDocPush =
    R"({"arg":{"channel":"candle1D","instId":"BTC-USDT"},"data":[["1597026383085","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","529.5858061","0"]]})";

std::string push(std::string_view channel, std::string_view inst, std::string_view rows) {
  return std::string(R"({"arg":{"channel":")") + std::string(channel) + R"(","instId":")" +
         std::string(inst) + R"("},"data":[)" + std::string(rows) + "]}";
}

constexpr std::string_view kRow =
    R"(["1597026360000","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","529.58","0"])";

}  // namespace

TEST_CASE("every message of the real OKX capture parses, acks as control replies") {
  const auto c = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/okx/OKX.ws.1.0");
  REQUIRE(c.size() > 400);
  REQUIRE(c.sent.size() == 3);
  auto ws = kSpec.make_ws(1 << 20);
  std::size_t acks = 0, ignored = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Event e = ws->parse(c.data(i), c.len(i), c.capacity(i));
    INFO(c.text(i));
    INFO(ws->last_error());
    REQUIRE(e.kind != EventKind::kError);
    if (c.text(i).rfind(R"({"event":"subscribe")", 0) == 0) {
      REQUIRE(e.kind == EventKind::kControlReply);
      CHECK(e.control.ok);
      CHECK(e.control.id == -1);  // 2022 acks carried no id
      ++acks;
    } else {
      REQUIRE(c.text(i).rfind(R"({"arg":{"channel":")", 0) == 0);
      REQUIRE(e.kind == EventKind::kIgnored);  // trades, books, tickers
      ++ignored;
    }
    CHECK(std::string_view(ws->last_error()).empty());
  }
  CHECK(acks == 18);
  CHECK(ignored + acks == c.size());
}

TEST_CASE("the capture's pushes reordered so simdjson runs still parse as ignored") {
  // The byte-scan skip needs {"arg":{"channel":" first; a push with data first takes the full path.
  const auto c = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/okx/OKX.ws.1.0");
  auto ws = kSpec.make_ws(1 << 20);
  std::size_t n = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::string s(c.text(i));
    if (s.rfind(R"({"arg":)", 0) != 0) continue;
    s.insert(1, R"("x":1,)");
    const Event e = parse(*ws, s);
    INFO(s.substr(0, 200));
    INFO(ws->last_error());
    REQUIRE(e.kind == EventKind::kIgnored);
    ++n;
  }
  CHECK(n + 18 == c.size());  // every push (all but the 18 acks)
}

TEST_CASE("a candle push: fields, units, flags, topic") {
  auto ws = kSpec.make_ws(1 << 16);
  SECTION("spot: volume = vol (base), quote_volume = volCcy (quote)") {
    const Event e = parse(*ws, push("candle1m", "BTC-USDT", kRow));
    INFO(ws->last_error());
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.topic == ws->kline_topic("BTC-USDT", "1m"));
    CHECK(e.topic == "candle1m:BTC-USDT");
    CHECK(e.event_time_ms == mdfeed::venue::kNoTime);
    // Exact: the decimal strings parse with correct rounding.
    const std::vector<double> got = {e.bar.open, e.bar.high, e.bar.low, e.bar.close,
                                     e.bar.volume, e.bar.quote_volume};
    CHECK(got == std::vector<double>{8533.02, 8553.74, 8527.17, 8548.26, 45247, 529.5858061});
    CHECK(e.bar.close_time_ms - e.bar.open_time_ms == 60'000 - 1);
    CHECK(e.bar.open_time_ms == 1597026360000);
    CHECK(std::isnan(e.bar.taker_buy_volume));
    CHECK(std::isnan(e.bar.taker_buy_quote_volume));
    CHECK(e.bar.trades == 0);
    CHECK(e.bar.flags == kBarNoTrades);
  }
  SECTION("swap: vol is contracts, so volume = volCcy (base), quote_volume = volCcyQuote") {
    const Event e = parse(*ws, push("candle1m", "BTC-USDT-SWAP", kRow));
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.topic == "candle1m:BTC-USDT-SWAP");
    CHECK(e.bar.volume == 529.5858061);
    CHECK(e.bar.quote_volume == 529.58);
  }
  SECTION("confirm \"1\" closes the bar") {
    std::string row(kRow);
    row.replace(row.size() - 4, 3, "\"1\"");
    const Event e = parse(*ws, push("candle1m", "BTC-USDT", row));
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.bar.flags == (kBarNoTrades | kBarClosed));
  }
  SECTION("UTC bars map back to canonical intervals") {
    const Event d = parse(*ws, push("candle1Dutc", "ETH-USDT", R"(["1700006400000","1","2","0.5","1.5","3","4","5","1"])"));
    REQUIRE(d.kind == EventKind::kKline);
    CHECK(d.topic == ws->kline_topic("ETH-USDT", "1d"));
    CHECK(d.bar.close_time_ms == 1700006400000 + 86'400'000 - 1);
    const Event m = parse(*ws, push("candle1Mutc", "ETH-USDT", R"(["1706745600000","1","2","0.5","1.5","3","4","5","1"])"));
    REQUIRE(m.kind == EventKind::kKline);
    CHECK(m.topic == "candle1Mutc:ETH-USDT");
    CHECK(m.bar.close_time_ms == 1709251200000 - 1);  // Feb 2024 has 29 days
    const Event h = parse(*ws, push("candle1H", "ETH-USDT", R"(["1700006400000","1","2","0.5","1.5","3","4","5","1"])"));
    REQUIRE(h.kind == EventKind::kKline);
    CHECK(h.topic == ws->kline_topic("ETH-USDT", "1h"));
  }
  SECTION("several rows: the newest wins") {
    const Event e = parse(*ws, push("candle1m", "BTC-USDT",
                                    R"(["1597026300000","1","1","1","1","1","1","1","1"],)"
                                    R"(["1597026360000","2","2","2","2","2","2","2","0"],)"
                                    R"(["1597026240000","3","3","3","3","3","3","3","1"])"));
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.bar.open_time_ms == 1597026360000);
    CHECK(e.bar.open == 2);
  }
  SECTION("unknown fields and data before arg") {
    const Event e = parse(*ws, R"({"data":[)" + std::string(kRow) +
                                   R"(],"x":{"y":[1]},"arg":{"instType":"SPOT","channel":"candle5m","instId":"BTC-USDT"}})");
    INFO(ws->last_error());
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.topic == "candle5m:BTC-USDT");
    CHECK(e.bar.close_time_ms == 1597026360000 + 300'000 - 1);
  }
  SECTION("the documented push is on a Hong Kong time bar mdfeed never subscribes: ignored") {
    CHECK(parse(*ws, kDocPush).kind == EventKind::kIgnored);
    std::string utc(kDocPush);
    utc.replace(utc.find("candle1D"), 8, "candle1Dutc");
    const Event e = parse(*ws, utc);
    REQUIRE(e.kind == EventKind::kKline);
    CHECK(e.bar.open_time_ms == 1597026383085);
    CHECK(e.bar.volume == 45247);
    CHECK(e.bar.quote_volume == 529.5858061);
    CHECK(e.bar.flags == kBarNoTrades);
  }
  SECTION("other channels, including mark-price candles, are ignored") {
    CHECK(parse(*ws, push("mark-price-candle1m", "BTC-USDT-SWAP", R"(["1","2"])")).kind == EventKind::kIgnored);
    CHECK(parse(*ws, R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1"}]})").kind == EventKind::kIgnored);
  }
}

TEST_CASE("events: acks, errors, notices, pong") {
  auto ws = kSpec.make_ws(1 << 16);
  SECTION("subscribe ack with id") {
    const Event e = parse(*ws, R"({"id":"7","event":"subscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"},"connId":"a4d3ae55"})");
    REQUIRE(e.kind == EventKind::kControlReply);
    CHECK(e.control.ok);
    CHECK(e.control.id == 7);
  }
  SECTION("unsubscribe ack") {
    const Event e = parse(*ws, R"({"event":"unsubscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"},"connId":"a4d3ae55"})");
    REQUIRE(e.kind == EventKind::kControlReply);
    CHECK(e.control.ok);
  }
  SECTION("error") {
    const Event e = parse(*ws, R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"index-tickers\", \"instId\" : \"BTC-USDT\"}]}","connId":"a4d3ae55"})");
    REQUIRE(e.kind == EventKind::kControlReply);
    CHECK_FALSE(e.control.ok);
    CHECK(e.control.error_code == 60012);
    CHECK(e.control.error_msg.rfind("Invalid request: {\"op\"", 0) == 0);
    CHECK(e.control.id == -1);
  }
  SECTION("notice before a service upgrade disconnects") {
    const Event e = parse(*ws, R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"})");
    REQUIRE(e.kind == EventKind::kShutdown);
    CHECK(e.text.rfind("The connection will soon be closed", 0) == 0);
  }
  SECTION("other events are notices") {
    const Event e = parse(*ws, R"({"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"abcd1234"})");
    REQUIRE(e.kind == EventKind::kNotice);
    CHECK(e.text == "channel-conn-count");
  }
  SECTION("pong") {
    CHECK(parse(*ws, "pong").kind == EventKind::kPong);
    CHECK(parse(*ws, "pong ").kind == EventKind::kError);
  }
}

TEST_CASE("malformed messages are errors with a reason, and the parser goes on") {
  auto ws = kSpec.make_ws(4096);
  const std::string good = push("candle1m", "BTC-USDT", kRow);
  const std::vector<std::string> bad = {
      "",
      "ping",
      "[]",
      "{}",
      R"({"foo":1})",
      good.substr(0, good.size() - 1),
      good + "x",
      good + "{}",
      push("candle1m", "BTC-USDT", ""),
      R"({"arg":{"channel":"candle1m","instId":"BTC-USDT"}})",
      R"({"arg":{"channel":"candle1m"},"data":[)" + std::string(kRow) + "]}",
      R"({"arg":{"instId":"BTC-USDT"},"data":[]})",
      R"({"arg":"candle1m","data":[]})",
      push("candle1m", "BTC-USDT", R"(["1597026360000","1","1","1","1","1","1","1"])"),
      push("candle1m", "BTC-USDT", R"([1597026360000,"1","1","1","1","1","1","1","0"])"),
      push("candle1m", "BTC-USDT", R"(["1597026360000",1,"1","1","1","1","1","1","0"])"),
      push("candle1m", "BTC-USDT", R"(["1597026360000","1","1","1","1","1","1","1","2"])"),
      push("candle1m", "BTC-USDT", R"(["1597026360000","1","1","1","1","1","1","1",true])"),
      push("candle1m", "BTC-USDT", R"(["x","1","1","1","1","1","1","1","0"])"),
      push("candle1m", "BTC-USDT", R"({"ts":"1"})"),
      R"({"event":7})",
      std::string(5000, ' '),
  };
  for (const auto& s : bad) {
    INFO(s);
    const Event e = parse(*ws, s);
    CHECK(e.kind == EventKind::kError);
    CHECK_FALSE(std::string_view(ws->last_error()).empty());
    // The next good message still parses.
    REQUIRE(parse(*ws, good).kind == EventKind::kKline);
    CHECK(std::string_view(ws->last_error()).empty());
  }
  SECTION("a buffer without the padding is refused") {
    std::vector<char> buf(good.begin(), good.end());
    buf.resize(good.size() + kParsePadding - 1);
    CHECK(ws->parse(buf.data(), good.size(), buf.size()).kind == EventKind::kError);
  }
  SECTION("extra columns are fine") {
    CHECK(parse(*ws, push("candle1m", "BTC-USDT", R"(["1597026360000","1","1","1","1","1","1","1","0","9",{}])")).kind ==
          EventKind::kKline);
  }
}

TEST_CASE("connect path and control frames") {
  auto ws = kSpec.make_ws(1 << 16);
  std::size_t in_url = 7;
  CHECK(ws->connect_path({"candle1m:BTC-USDT"}, in_url) == "/ws/v5/business");
  CHECK(in_url == 0);

  std::int64_t id = 7;
  auto f = ws->control_frames({ws->kline_topic("BTC-USDT", "1m"), ws->kline_topic("BTC-USDT-SWAP", "1d")}, true, id);
  REQUIRE(f.size() == 1);
  CHECK(f[0] == R"({"id":"7","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"},{"channel":"candle1Dutc","instId":"BTC-USDT-SWAP"}]})");
  CHECK(id == 8);
  f = ws->control_frames({"candle1H:ETH-USDT"}, false, id);
  REQUIRE(f.size() == 1);
  CHECK(f[0] == R"({"id":"8","op":"unsubscribe","args":[{"channel":"candle1H","instId":"ETH-USDT"}]})");
  CHECK(ws->control_frames({}, true, id).empty());

  SECTION("batched by count") {
    std::vector<std::string> topics;
    for (int i = 0; i < 250; ++i) topics.push_back("candle1m:C" + std::to_string(i) + "-USDT");
    std::int64_t next = 1;
    f = ws->control_frames(topics, true, next);
    REQUIRE(f.size() == 3);
    CHECK(next == 4);
    std::size_t args = 0;
    for (std::size_t k = 0; k < f.size(); ++k) {
      CHECK(f[k].rfind("{\"id\":\"" + std::to_string(k + 1) + "\",", 0) == 0);
      std::size_t n = 0;
      for (std::size_t p = 0; (p = f[k].find("\"channel\"", p)) != std::string::npos; ++p) ++n;
      CHECK(n <= kSpec.limits.max_topics_per_request);
      args += n;
    }
    CHECK(args == 250);
    CHECK(kSpec.limits.max_topics_per_request == 100);
  }
  SECTION("batched by bytes: no request passes 64 KB") {
    std::vector<std::string> topics;
    for (int i = 0; i < 150; ++i) topics.push_back("candle1m:" + std::string(2000, 'A') + std::to_string(i));
    std::int64_t next = 1;
    f = ws->control_frames(topics, true, next);
    REQUIRE(f.size() >= 5);
    std::size_t args = 0;
    for (const auto& frame : f) {
      CHECK(frame.size() <= 64 * 1024);
      for (std::size_t p = 0; (p = frame.find("\"channel\"", p)) != std::string::npos; ++p) ++args;
    }
    CHECK(args == 150);
  }
}

TEST_CASE("heartbeat: ping after 20 s of silence, once per silence or per 20 s") {
  auto ws = kSpec.make_ws(1 << 16);
  CHECK(kSpec.limits.heartbeat_ms == 20'000);
  CHECK(kSpec.limits.pong_deadline_ms == 10'000);
  const std::int64_t t0 = 1'000'000;
  CHECK_FALSE(ws->heartbeat(t0, t0, 20'000));
  CHECK_FALSE(ws->heartbeat(t0 + 19'999, t0, 20'000));
  auto p = ws->heartbeat(t0 + 20'000, t0, 20'000);
  REQUIRE(p);
  CHECK(*p == "ping");
  CHECK_FALSE(ws->heartbeat(t0 + 20'001, t0, 20'000));
  CHECK_FALSE(ws->heartbeat(t0 + 39'999, t0, 20'000));
  CHECK(ws->heartbeat(t0 + 40'000, t0, 20'000));  // still silent 20 s after the ping: again
  // The pong arrives; the next ping waits for 20 s of silence after it.
  const std::int64_t rx = t0 + 40'100;
  CHECK_FALSE(ws->heartbeat(rx + 1, rx, 20'000));
  CHECK_FALSE(ws->heartbeat(rx + 19'999, rx, 20'000));
  CHECK(ws->heartbeat(rx + 20'000, rx, 20'000));
  CHECK(parse(*ws, "pong").kind == EventKind::kPong);
}
