// The Binance kline parser against every message of the four real captures, checked field by
// field against a naive decoder written here (string search + strtod/strtoll, no simdjson), and
// against malformed, hostile and unusual messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "binance/kline_parser.hpp"
#include "capture.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::venue::kParsePadding;
using mdfeed::binance::KlineMsg;
using mdfeed::binance::KlineParser;
using mdfeed::binance::MsgKind;
using mdfeed::testing::Capture;

// Parses s from a padded copy. The views in out point into that copy until the next call.
MsgKind parse(KlineParser& p, std::string_view s, KlineMsg& out) {
  static std::vector<char> buf;
  buf.assign(s.begin(), s.end());
  buf.resize(s.size() + kParsePadding, '\0');
  return p.parse(buf.data(), s.size(), buf.size(), out);
}

// ---- the independent decoder ----

std::string_view after(std::string_view s, std::string_view pattern) {
  const std::size_t p = s.find(pattern);
  REQUIRE(p != std::string_view::npos);
  return s.substr(p + pattern.size());
}

std::string naive_string(std::string_view obj, char key) {
  const std::string pattern = std::string("\"") + key + "\":\"";
  const std::string_view rest = after(obj, pattern);
  return std::string(rest.substr(0, rest.find('"')));
}

long long naive_int(std::string_view obj, char key) {
  const std::string pattern = std::string("\"") + key + "\":";
  const std::string digits(after(obj, pattern).substr(0, 24));
  char* end = nullptr;
  const long long v = std::strtoll(digits.c_str(), &end, 10);
  REQUIRE((*end == ',' || *end == '}'));
  return v;
}

double naive_decimal(std::string_view obj, char key) {
  const std::string s = naive_string(obj, key);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);  // glibc strtod rounds correctly
  REQUIRE(*end == '\0');
  return v;
}

bool naive_bool(std::string_view obj, char key) {
  const std::string_view rest = after(obj, std::string("\"") + key + "\":");
  if (rest.substr(0, 4) == "true") return true;
  REQUIRE(rest.substr(0, 5) == "false");
  return false;
}

std::string naive_stream(std::string_view msg) {
  const std::string_view rest = after(msg, "{\"stream\":\"");
  return std::string(rest.substr(0, rest.find('"')));
}

bool naive_is_kline(std::string_view msg) {
  return naive_stream(msg).find("@kline_") != std::string::npos;
}

bool naive_is_trade(std::string_view msg) {
  const std::string s = naive_stream(msg);
  return s.size() > 9 && s.compare(s.size() - 9, 9, "@aggTrade") == 0;
}

MsgKind naive_kind(std::string_view msg) {
  if (naive_is_kline(msg)) return MsgKind::kKline;
  return naive_is_trade(msg) ? MsgKind::kTrade : MsgKind::kNotKline;
}

void check_trade_against_naive(std::string_view msg, const KlineMsg& m) {
  const std::string_view d = after(msg, "\"data\":{");
  CHECK(m.stream == naive_stream(msg));
  CHECK(m.event_time_ms == naive_int(d, 'E'));
  CHECK(m.symbol == naive_string(d, 's'));
  const mdfeed::binance::AggTrade& t = m.trade;
  CHECK(t.agg_id == static_cast<std::uint64_t>(naive_int(d, 'a')));
  CHECK(t.price == naive_decimal(d, 'p'));
  CHECK(t.quantity == naive_decimal(d, 'q'));
  CHECK(t.first_id == static_cast<std::uint64_t>(naive_int(d, 'f')));
  CHECK(t.last_id == static_cast<std::uint64_t>(naive_int(d, 'l')));
  CHECK(t.trade_time_ms == naive_int(d, 'T'));
  CHECK(t.buyer_is_maker == naive_bool(d, 'm'));
}

void check_against_naive(std::string_view msg, const KlineMsg& m) {
  const std::string_view data = after(msg, "\"data\":{");
  const std::string_view k = after(data, "\"k\":{");
  const std::string_view head = data.substr(0, data.find("\"k\":{"));
  CHECK(m.stream == naive_stream(msg));
  CHECK(m.event_time_ms == naive_int(head, 'E'));
  CHECK(m.symbol == naive_string(k, 's'));
  CHECK(m.interval == naive_string(k, 'i'));
  const Bar& b = m.bar;
  CHECK(b.open_time_ms == naive_int(k, 't'));
  CHECK(b.close_time_ms == naive_int(k, 'T'));
  CHECK(b.open == naive_decimal(k, 'o'));
  CHECK(b.high == naive_decimal(k, 'h'));
  CHECK(b.low == naive_decimal(k, 'l'));
  CHECK(b.close == naive_decimal(k, 'c'));
  CHECK(b.volume == naive_decimal(k, 'v'));
  CHECK(b.quote_volume == naive_decimal(k, 'q'));
  CHECK(b.taker_buy_volume == naive_decimal(k, 'V'));
  CHECK(b.taker_buy_quote_volume == naive_decimal(k, 'Q'));
  CHECK(b.trades == static_cast<std::uint64_t>(naive_int(k, 'n')));
  CHECK(b.closed() == naive_bool(k, 'x'));
  CHECK(b.flags == (naive_bool(k, 'x') ? mdfeed::kBarClosed : 0u));
  CHECK(b.reserved == 0u);
}

// ---- a synthetic kline built from fields, to break one thing at a time ----

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields good_k() {
  return {{"t", "1633998480000"}, {"T", "1633998539999"}, {"s", "\"NKNUSDT\""},
          {"i", "\"1m\""},        {"f", "19862761"},      {"L", "19862790"},
          {"o", "\"0.35270000\""}, {"c", "\"0.35280000\""}, {"h", "\"0.35290000\""},
          {"l", "\"0.35220000\""}, {"v", "\"25877.00000000\""}, {"n", "30"},
          {"x", "false"},         {"q", "\"9116.04600000\""}, {"V", "\"58.00000000\""},
          {"Q", "\"20.46240000\""}, {"B", "\"0\""}};
}

std::string object(const Fields& fields) {
  std::string s = "{";
  for (const auto& [key, value] : fields) {
    if (s.size() > 1) s += ',';
    s += '"' + key + "\":" + value;
  }
  return s + '}';
}

Fields good_data(const Fields& k = good_k()) {
  return {{"e", "\"kline\""}, {"E", "1633998523963"}, {"s", "\"NKNUSDT\""}, {"k", object(k)}};
}

std::string envelope(const Fields& data = good_data(), const std::string& stream = "nknusdt@kline_1m") {
  return "{\"stream\":\"" + stream + "\",\"data\":" + object(data) + "}";
}

Fields with(Fields f, const std::string& key, const std::string& value) {
  for (auto& kv : f)
    if (kv.first == key) kv.second = value;
  return f;
}

Fields without(Fields f, const std::string& key) {
  Fields out;
  for (auto& kv : f)
    if (kv.first != key) out.push_back(kv);
  return out;
}

// After any error the same parser must still parse a good message.
void require_recovers(KlineParser& p) {
  KlineMsg m;
  REQUIRE(parse(p, envelope(), m) == MsgKind::kKline);
  REQUIRE(m.bar.open_time_ms == 1633998480000);
  REQUIRE(std::string(p.last_error()).empty());
}

void require_error(KlineParser& p, const std::string& msg, const char* mentions = nullptr) {
  KlineMsg m;
  INFO(msg);
  REQUIRE(parse(p, msg, m) == MsgKind::kError);
  INFO(p.last_error());
  REQUIRE(std::strlen(p.last_error()) > 0);
  if (mentions != nullptr) REQUIRE(std::string(p.last_error()).find(mentions) != std::string::npos);
  require_recovers(p);
}

}  // namespace

TEST_CASE("every message of the four captures: klines and aggTrades match the naive decode, the rest skip",
          "[binance][kline][captures]") {
  // Counted independently (grep on the stream name): '@kline_' 2 + 5 + 67 + 33 klines;
  // '"stream":"[a-z0-9_]*@aggTrade"' 2 + 11 + 91 + 51 aggTrades (spot, US, USD-M, COIN-M).
  struct Expect {
    const char* file;
    std::size_t klines;
    std::size_t trades;
    std::size_t others;
  };
  const Expect expected[] = {
      {"binance/BINANCE.ws.1.0", 2, 2, 261},
      {"binance/BINANCE_US.ws.1.0", 5, 11, 464},
      {"binance/BINANCE_FUTURES.ws.1.0", 67, 91, 1377},
      {"binance/BINANCE_DELIVERY.ws.1.0", 33, 51, 4287},
  };
  KlineParser parser;  // one parser across all files, as one connection would
  std::size_t total_klines = 0;
  std::size_t total_trades = 0;
  std::size_t total_closed = 0;
  for (const Expect& e : expected) {
    const Capture cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/" + e.file);
    std::size_t klines = 0;
    std::size_t trades = 0;
    std::size_t others = 0;
    for (std::size_t i = 0; i < cap.size(); ++i) {
      INFO(e.file << " message " << i << ": " << cap.text(i));
      KlineMsg m;
      const MsgKind kind = parser.parse(cap.data(i), cap.len(i), cap.capacity(i), m);
      INFO(parser.last_error());
      REQUIRE(kind == naive_kind(cap.text(i)));
      if (kind == MsgKind::kKline) {
        check_against_naive(cap.text(i), m);
        ++klines;
        if (m.bar.closed()) ++total_closed;
      } else if (kind == MsgKind::kTrade) {
        check_trade_against_naive(cap.text(i), m);
        ++trades;
      } else {
        ++others;
      }
    }
    CHECK(klines == e.klines);
    CHECK(trades == e.trades);
    CHECK(others == e.others);
    total_klines += klines;
    total_trades += trades;
  }
  CHECK(total_klines == 107);
  CHECK(total_trades == 155);
  CHECK(total_closed == 5);  // grep -c '"x":true'
}

TEST_CASE("the captures also parse through the full (slow) path to the same kinds",
          "[binance][kline][captures]") {
  // A leading space defeats the byte-scan pre-filter, so simdjson parses every message; this
  // proves the skip decision agrees with a real parse and that depth/ticker messages are valid.
  KlineParser parser;
  std::size_t n = 0;
  for (const char* file : mdfeed::testing::kCaptureFiles) {
    const Capture cap = mdfeed::testing::load_capture(mdfeed::testing::fixtures_dir() + "/" + file);
    for (std::size_t i = 0; i < cap.size(); ++i) {
      const std::string spaced = " " + std::string(cap.text(i));
      KlineMsg m;
      const MsgKind kind = parse(parser, spaced, m);
      INFO(file << " message " << i << ": " << parser.last_error());
      REQUIRE(kind == naive_kind(cap.text(i)));
      // The generic path reads an aggTrade again on the trade path: the same values.
      if (kind == MsgKind::kTrade) check_trade_against_naive(cap.text(i), m);
      ++n;
    }
  }
  CHECK(n == 107 + 6544);
}

TEST_CASE("synthetic kline: every field, closed flag, raw form", "[binance][kline]") {
  KlineParser p;
  KlineMsg m;
  REQUIRE(parse(p, envelope(with(good_data(), "k", object(with(good_k(), "x", "true")))), m) ==
          MsgKind::kKline);
  CHECK(m.stream == "nknusdt@kline_1m");
  CHECK(m.symbol == "NKNUSDT");
  CHECK(m.interval == "1m");
  CHECK(m.event_time_ms == 1633998523963);
  CHECK(m.bar.open_time_ms == 1633998480000);
  CHECK(m.bar.close_time_ms == 1633998539999);
  CHECK(m.bar.open == 0.3527);
  CHECK(m.bar.close == 0.3528);
  CHECK(m.bar.high == 0.3529);
  CHECK(m.bar.low == 0.3522);
  CHECK(m.bar.volume == 25877.0);
  CHECK(m.bar.quote_volume == 9116.046);
  CHECK(m.bar.taker_buy_volume == 58.0);
  CHECK(m.bar.taker_buy_quote_volume == 20.4624);
  CHECK(m.bar.trades == 30u);
  CHECK(m.bar.flags == mdfeed::kBarClosed);

  SECTION("raw (non-combined) stream") {
    REQUIRE(parse(p, object(good_data()), m) == MsgKind::kKline);
    CHECK(m.stream.empty());
    CHECK(m.symbol == "NKNUSDT");
    CHECK(m.bar.flags == 0u);
  }
  SECTION("fields in another order, whitespace, unknown fields") {
    Fields k = good_k();
    std::reverse(k.begin(), k.end());
    k.emplace_back("zz", "[1,{\"a\":[2]}]");
    Fields data = good_data(k);
    std::reverse(data.begin(), data.end());
    std::string msg = "  {\n \"data\" : " + object(data) + " , \"stream\":\"nknusdt@kline_1m\" }\n";
    REQUIRE(parse(p, msg, m) == MsgKind::kKline);
    CHECK(m.bar.close == 0.3528);
    CHECK(m.stream == "nknusdt@kline_1m");
  }
  SECTION("escaped strings are unescaped") {
    REQUIRE(parse(p, envelope(good_data(with(good_k(), "s", "\"NKN\\u0055SDT\""))), m) ==
            MsgKind::kKline);
    CHECK(m.symbol == "NKNUSDT");
  }
  SECTION("decimals round correctly") {
    const char* cases[] = {"0.1", "0.30000000", "123456789.12345678", "0.00000001",
                           "99999999999.99999999", "1e-7", "7205759403792793.5", "0"};
    for (const char* c : cases) {
      INFO(c);
      REQUIRE(parse(p, envelope(good_data(with(good_k(), "o", std::string("\"") + c + "\""))), m) ==
              MsgKind::kKline);
      CHECK(m.bar.open == std::strtod(c, nullptr));
    }
  }
}

TEST_CASE("non-kline traffic, control replies and server shutdown", "[binance][kline]") {
  KlineParser p;
  KlineMsg m;
  SECTION("market data is skipped without a parse, and reports its stream") {
    const std::string depth = R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","b":[]}})";
    REQUIRE(parse(p, depth, m) == MsgKind::kNotKline);
    CHECK(m.stream == "btcusdt@depth@100ms");
    CHECK(parse(p, R"({"e":"trade","E":1,"s":"BTCUSDT"})", m) == MsgKind::kNotKline);
    // An aggTrade is parsed now (forming bars from trades): an incomplete one is an error.
    CHECK(parse(p, R"({"e":"aggTrade","E":1,"s":"BTCUSDT"})", m) == MsgKind::kError);
    CHECK(std::string(p.last_error()).find("missing field a") != std::string::npos);
    CHECK(parse(p, R"({"u":400900217,"s":"BNBUSDT","b":"25.3","B":"31.2","a":"25.4","A":"40.6"})", m) ==
          MsgKind::kNotKline);  // raw bookTicker has no "e": full parse, still not a kline
    CHECK(parse(p, R"({"stream":"btcusdt_perpetual@continuousKline_1m","data":{"e":"continuous_kline","k":{}}})", m) ==
          MsgKind::kNotKline);
    CHECK(parse(p, R"({"e":"continuous_kline","E":1,"k":{"t":1}})", m) == MsgKind::kNotKline);
    CHECK(parse(p, "{}", m) == MsgKind::kNotKline);
  }
  SECTION("control replies") {
    REQUIRE(parse(p, R"({"result":null,"id":7})", m) == MsgKind::kControlReply);
    CHECK(m.control.id == 7);
    CHECK(m.control.ok);
    REQUIRE(parse(p, R"({"result":["btcusdt@kline_1m"],"id":8})", m) == MsgKind::kControlReply);
    CHECK(m.control.id == 8);
    CHECK(m.control.ok);
    REQUIRE(parse(p, R"({"id":9,"result":true})", m) == MsgKind::kControlReply);
    CHECK(m.control.id == 9);
    REQUIRE(parse(p, R"({"code":2,"msg":"Invalid request: request ID must be an unsigned integer","id":10})", m) ==
            MsgKind::kControlReply);
    CHECK_FALSE(m.control.ok);
    CHECK(m.control.error_code == 2);
    CHECK(m.control.error_msg == "Invalid request: request ID must be an unsigned integer");
    CHECK(m.control.id == 10);
    REQUIRE(parse(p, R"({"id":11,"status":400,"error":{"code":-1121,"msg":"Invalid symbol."}})", m) ==
            MsgKind::kControlReply);
    CHECK_FALSE(m.control.ok);
    CHECK(m.control.error_code == -1121);
    CHECK(m.control.error_msg == "Invalid symbol.");
    REQUIRE(parse(p, R"({"result":null,"id":null})", m) == MsgKind::kControlReply);
    CHECK(m.control.id == -1);
  }
  SECTION("serverShutdown, raw, in an envelope, or as a WebSocket-API event") {
    REQUIRE(parse(p, R"({"e":"serverShutdown","E":1770123456789})", m) == MsgKind::kServerShutdown);
    CHECK(m.event_time_ms == 1770123456789);
    CHECK(parse(p, R"({"stream":"serverShutdown","data":{"e":"serverShutdown","E":1}})", m) ==
          MsgKind::kServerShutdown);
    CHECK(parse(p, R"({"event":{"e":"serverShutdown","E":1}})", m) == MsgKind::kServerShutdown);
  }
}

TEST_CASE("malformed messages are errors and the parser carries on", "[binance][kline][errors]") {
  KlineParser p;
  SECTION("empty and whitespace") {
    KlineMsg m;
    REQUIRE(p.parse(nullptr, 0, kParsePadding, m) == MsgKind::kError);
    require_recovers(p);
    require_error(p, "");
    require_error(p, "   \n");
  }
  SECTION("not an object") {
    require_error(p, "[1,2]");
    require_error(p, "42");
    require_error(p, "\"kline\"");
    require_error(p, "null");
  }
  SECTION("every truncation of a kline message") {
    const std::string full = envelope();
    for (std::size_t n = 1; n < full.size(); ++n) require_error(p, full.substr(0, n));
    const std::string raw = object(good_data());
    for (std::size_t n = 1; n < raw.size(); ++n) require_error(p, raw.substr(0, n));
  }
  SECTION("trailing content") {
    require_error(p, envelope() + "}", "trailing");
    require_error(p, envelope() + " x");
    require_error(p, envelope() + envelope());
  }
  SECTION("wrong types") {
    struct Case {
      const char* key;
      const char* value;
    };
    const Case cases[] = {
        {"t", "\"abc\""}, {"t", "\"1633998480000\""}, {"t", "1.5"}, {"T", "null"},
        {"s", "5"},       {"i", "null"},              {"o", "1.5"}, {"o", "0"},
        {"c", "\"1.5x\""}, {"h", "\"\""},             {"l", "\"abc\""}, {"v", "true"},
        {"q", "[\"1\"]"}, {"V", "{}"},                {"Q", "\"--1\""}, {"n", "\"30\""},
        {"n", "-1"},      {"n", "3.0"},               {"x", "\"true\""}, {"x", "1"},
        {"x", "null"},
    };
    for (const Case& c : cases) {
      const std::string where = std::string("k.") + c.key;
      require_error(p, envelope(good_data(with(good_k(), c.key, c.value))), where.c_str());
    }
    require_error(p, envelope(with(good_data(), "E", "\"1633998523963\"")));
    require_error(p, envelope(with(good_data(), "e", "1")));
    require_error(p, envelope(with(good_data(), "k", "[]")));
    require_error(p, envelope(with(good_data(), "k", "null")));
    require_error(p, R"({"stream":"nknusdt@kline_1m","data":"x"})");
    require_error(p, R"({"stream":5,"data":{}})");
  }
  SECTION("each required field missing") {
    for (const char* key : {"t", "T", "s", "i", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q"}) {
      const std::string where = std::string("k.") + key;
      require_error(p, envelope(good_data(without(good_k(), key))), where.c_str());
      require_error(p, object(good_data(without(good_k(), key))), where.c_str());
    }
    require_error(p, envelope(without(good_data(), "E")), "E");
    require_error(p, envelope(without(good_data(), "k")), "k");
    require_error(p, envelope(without(good_data(), "e")));  // a kline stream must say kline
    require_error(p, object(without(good_data(), "e")));    // k with no event type
  }
  SECTION("kline stream carrying something else") {
    require_error(p, envelope(with(good_data(), "e", "\"24hrTicker\"")), "24hrTicker");
  }
  SECTION("binary junk and bad UTF-8") {
    std::mt19937 rng(20240601);
    for (int i = 0; i < 2000; ++i) {
      std::string junk(1 + rng() % 300, '\0');
      for (char& c : junk) c = static_cast<char>(rng() & 0xff);
      KlineMsg m;
      INFO("junk #" << i);
      REQUIRE(parse(p, junk, m) == MsgKind::kError);
    }
    require_recovers(p);
    std::string bad = envelope();
    bad.replace(bad.find("NKNUSDT"), 1, "\xff");
    require_error(p, bad);
    bad = envelope();
    bad[bad.find("NKNUSDT")] = '\0';
    require_error(p, bad);
  }
  SECTION("insufficient padding is refused, not read past") {
    const std::string msg = envelope();
    KlineMsg m;
    REQUIRE(p.parse(msg.data(), msg.size(), msg.size(), m) == MsgKind::kError);
    CHECK(std::string(p.last_error()).find("padding") != std::string::npos);
    require_recovers(p);
  }
}

TEST_CASE("the size bound: larger messages are errors, the buffers never grow past it",
          "[binance][kline][errors]") {
  const std::string normal = envelope();
  // Same kline, padded with an ignored field to a chosen size.
  auto sized = [](std::size_t n) {
    Fields data = good_data();
    const std::string base = envelope(data);
    data.emplace_back("z", "\"" + std::string(n - base.size() - 7, 'a') + "\"");
    std::string s = envelope(data);
    REQUIRE(s.size() == n);
    return s;
  };
  SECTION("small bound") {
    KlineParser p(1024);
    CHECK(p.max_bytes() == 1024);
    KlineMsg m;
    REQUIRE(parse(p, sized(1024), m) == MsgKind::kKline);
    require_error(p, sized(1025), "exceeds");
    // Skippable traffic is bounded too: an oversize depth message is an error, not skipped.
    require_error(p, R"({"stream":"btcusdt@depth","data":")" + std::string(1100, 'a') + "\"}",
                  "exceeds");
  }
  SECTION("default bound 1 MiB, growing from the initial buffers") {
    KlineParser p;
    KlineMsg m;
    REQUIRE(parse(p, sized(100'000), m) == MsgKind::kKline);
    REQUIRE(parse(p, sized(std::size_t{1} << 20), m) == MsgKind::kKline);
    require_error(p, sized((std::size_t{1} << 20) + 1), "exceeds");
    REQUIRE(parse(p, normal, m) == MsgKind::kKline);
  }
}

TEST_CASE("a moved-to parser keeps working", "[binance][kline]") {
  KlineParser a;
  KlineMsg m;
  REQUIRE(parse(a, envelope(), m) == MsgKind::kKline);
  KlineParser b = std::move(a);
  REQUIRE(parse(b, envelope(good_data(with(good_k(), "s", "\"ETHUSDT\""))), m) == MsgKind::kKline);
  CHECK(m.symbol == "ETHUSDT");
}

// ---- aggTrade ----

namespace {

Fields good_trade() {
  return {{"e", "\"aggTrade\""}, {"E", "1633998523963"}, {"s", "\"NKNUSDT\""},
          {"a", "15683430"},      {"p", "\"0.35280000\""}, {"q", "\"58.00000000\""},
          {"f", "19862790"},      {"l", "19862792"},        {"T", "1633998523962"},
          {"m", "true"},          {"M", "true"}};
}

std::string trade_envelope(const Fields& data = good_trade(), const std::string& stream = "nknusdt@aggTrade") {
  return "{\"stream\":\"" + stream + "\",\"data\":" + object(data) + "}";
}

}  // namespace

TEST_CASE("synthetic aggTrade: every field, raw form, futures shape", "[binance][trade]") {
  KlineParser p;
  KlineMsg m;
  REQUIRE(parse(p, trade_envelope(), m) == MsgKind::kTrade);
  CHECK(m.stream == "nknusdt@aggTrade");
  CHECK(m.symbol == "NKNUSDT");
  CHECK(m.event_time_ms == 1633998523963);
  CHECK(m.trade.agg_id == 15683430u);
  CHECK(m.trade.price == 0.3528);
  CHECK(m.trade.quantity == 58.0);
  CHECK(m.trade.first_id == 19862790u);
  CHECK(m.trade.last_id == 19862792u);
  CHECK(m.trade.trade_time_ms == 1633998523962);
  CHECK(m.trade.buyer_is_maker);
  // Raw (non-combined) form: no stream name; the spec names it from the symbol.
  REQUIRE(parse(p, object(good_trade()), m) == MsgKind::kTrade);
  CHECK(m.stream.empty());
  CHECK(m.symbol == "NKNUSDT");
  CHECK(m.trade.agg_id == 15683430u);
  // Unusual layouts take the generic path and are read again on the trade path: a leading
  // space, the envelope without its stream name.
  REQUIRE(parse(p, " " + trade_envelope(), m) == MsgKind::kTrade);
  CHECK(m.stream == "nknusdt@aggTrade");
  CHECK(m.trade.last_id == 19862792u);
  REQUIRE(parse(p, "{\"data\":" + object(good_trade()) + "}", m) == MsgKind::kTrade);
  CHECK(m.stream.empty());
  CHECK(m.symbol == "NKNUSDT");
  CHECK(m.trade.agg_id == 15683430u);
  // A stream name next to a top-level event is the parser's copy, not a view the second pass
  // overwrote.
  Fields top = good_trade();
  top.insert(top.begin(), {"stream", "\"nknusdt@aggTrade\""});
  REQUIRE(parse(p, " " + object(top), m) == MsgKind::kTrade);
  CHECK(m.stream == "nknusdt@aggTrade");
  CHECK(m.symbol == "NKNUSDT");
  // USD-M futures: no "M", "a" before "s"; field order does not matter.
  Fields fut = without(good_trade(), "M");
  std::swap(fut[2], fut[3]);
  REQUIRE(parse(p, trade_envelope(fut), m) == MsgKind::kTrade);
  CHECK(m.trade.last_id == 19862792u);
  CHECK_FALSE(p.last_error()[0]);
}

TEST_CASE("malformed aggTrades are errors and the parser carries on", "[binance][trade][errors]") {
  KlineParser p;
  for (const char* key : {"E", "s", "a", "p", "q", "f", "l", "T", "m"}) {
    INFO("without " << key);
    require_error(p, trade_envelope(without(good_trade(), key)), (std::string("missing field ") + key).c_str());
  }
  require_error(p, trade_envelope(with(good_trade(), "p", "0.3528")), "p");            // number, not a string
  require_error(p, trade_envelope(with(good_trade(), "p", "\"abc\"")), "p");
  require_error(p, trade_envelope(with(good_trade(), "a", "-1")), "a");
  require_error(p, trade_envelope(with(good_trade(), "m", "\"true\"")), "m");
  require_error(p, trade_envelope(with(good_trade(), "l", "19862789")), "before first");
  require_error(p, trade_envelope(with(good_trade(), "e", "\"trade\"")), "not an aggTrade");
  require_error(p, trade_envelope().substr(0, 120));                                  // truncated
  require_error(p, trade_envelope() + "x");
  // A @trade stream (raw trades, not aggregated) is not used: skipped, not an error.
  KlineMsg m;
  CHECK(parse(p, trade_envelope(good_trade(), "nknusdt@trade"), m) == MsgKind::kNotKline);
}
