// Every kind of config error, each at its exact line:column, all reported in one pass.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "config_test_util.hpp"

using mdfeed::test::all_errors;
using mdfeed::test::has_error;
using mdfeed::test::load;
using mdfeed::test::with_feed;

TEST_CASE("wrong types are reported at the value", "[config]") {
  const auto r = load(R"(
shm:
  capacity: abc
log:
  level: [info]
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: BTCUSDT
    intervals: [1m, 5m]
    stale_after_s: [1]
    backfill_bars: 1.5
)");
  INFO(all_errors(r));
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.size() == 5);
  CHECK(has_error(r, 2, 13, "shm.capacity: expected an integer, got 'abc'"));
  CHECK(has_error(r, 4, 10, "log.level: expected a single value, got a list"));
  CHECK(has_error(r, 10, 14, "symbols: expected a list, got a single value (write [BTCUSDT])"));
  CHECK(has_error(r, 12, 20, "stale_after_s: expected a number, got a list"));
  CHECK(has_error(r, 13, 20, "backfill_bars: expected an integer, got '1.5'"));
}

TEST_CASE("a section that is not a mapping, and list items that are not values", "[config]") {
  const auto r = load(R"(
shm: 5
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [[BTCUSDT], ETHUSDT]
    intervals: [1m]
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 2);
  CHECK(has_error(r, 1, 6, "'shm' must be a mapping"));
  CHECK(has_error(r, 7, 15, "symbols: list items must be single values"));
}

TEST_CASE("bad top-level values", "[config]") {
  const auto r = load(with_feed(R"(
shm:
  dir: relative/path
  capacity: 1000
  heartbeat_ms: 5
log:
  level: verbose
metrics:
  listen: localhost
feeds:)"));
  INFO(all_errors(r));
  CHECK(r.errors.size() == 5);
  CHECK(has_error(r, 2, 8, "shm.dir: must be an absolute path, got 'relative/path'"));
  CHECK(has_error(r, 3, 13, "shm.capacity: must be a power of two, got 1000"));
  CHECK(has_error(r, 4, 17, "shm.heartbeat_ms: must be between 10 and 1000, got 5"));
  CHECK(has_error(r, 6, 10, "log.level: 'verbose' is not a log level (valid: trace debug info"));
  CHECK(has_error(r, 8, 11, "metrics.listen: must be empty or host:port"));
}

TEST_CASE("capacity bounds, including values that do not fit an integer", "[config]") {
  for (const char* v : {"32", "33554432", "-1", "99999999999999999999"}) {
    const auto r = load(with_feed(std::string("\nshm:\n  capacity: ") + v + "\nfeeds:"));
    INFO(v << "\n" << all_errors(r));
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 2, 13,
                    std::string("shm.capacity: must be between 64 and 16777216, got ") + v));
  }
}

TEST_CASE("metrics.listen accepts host:port only", "[config]") {
  for (const char* good : {"127.0.0.1:9464", "[::1]:9464", "localhost:1", "0.0.0.0:65535"}) {
    const auto r = load(with_feed(std::string("\nmetrics:\n  listen: '") + good + "'\nfeeds:"));
    INFO(good << "\n" << all_errors(r));
    CHECK(r.ok());
  }
  for (const char* bad :
       {"127.0.0.1:0", ":9464", "127.0.0.1:65536", "127.0.0.1:http", "[::1:9464", "::1"}) {
    const auto r = load(with_feed(std::string("\nmetrics:\n  listen: '") + bad + "'\nfeeds:"));
    INFO(bad << "\n" << all_errors(r));
    CHECK(has_error(r, 2, 11, "metrics.listen: must be empty or host:port"));
  }
}

TEST_CASE("bad feed values", "[config]") {
  const auto r = load(R"(
feeds:
  - name: Binance
    exchange: kraken
    ws_url: ws://stream.binance.com:9443
    rest_url: http://api.binance.com
    ca_file: /nonexistent/ca.pem
    symbols: [btcusdt, BTC/USDT]
    intervals: [1m, 2m]
    stale_after_s: 0
    close_grace_s: -1
    max_streams_per_conn: 2000
    max_control_msgs_per_s: 101
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 12);
  CHECK(has_error(r, 2, 11, "name: 'Binance' is not a valid feed name"));
  CHECK(has_error(r, 3, 15, "exchange: 'kraken' is not a known exchange (known: binance binance-usdm"));
  CHECK(has_error(r, 4, 13, "ws_url: ws:// is never used; write wss://"));
  CHECK(has_error(r, 5, 15, "rest_url: http:// is never used; write https://"));
  CHECK(
      has_error(r, 6, 14, "ca_file: cannot read '/nonexistent/ca.pem': No such file or directory"));
  CHECK(has_error(r, 7, 15, "symbols: 'btcusdt' must be upper case (did you mean 'BTCUSDT'?)"));
  CHECK(has_error(r, 7, 24, "symbols: 'BTC/USDT' is not a valid symbol"));
  CHECK(has_error(
      r, 8, 21,
      "intervals: '2m' is not an mdfeed interval (valid: 1s 1m 3m 5m 15m 30m 1h "
      "2h 4h 6h 8h 12h 1d 3d 1w 1M)"));
  CHECK(has_error(r, 9, 20, "stale_after_s: must be greater than 0 and at most 86400, got 0"));
  CHECK(has_error(r, 10, 20, "close_grace_s: must be between 0 and 86400, got -1"));
  CHECK(has_error(r, 11, 27, "max_streams_per_conn: must be between 1 and 1024, got 2000"));
  CHECK(has_error(r, 12, 29, "max_control_msgs_per_s: must be between 1 and 100, got 101"));
}

TEST_CASE("the venue's limits bound its feed's keys", "[config][venue]") {
  const auto r = load(R"(
feeds:
  - name: spot
    exchange: binance
    symbols: [BTCUSDT]
    intervals: [1m]
    max_control_msgs_per_s: 6
    rotate_after_s: 86350
  - name: perp
    exchange: binance-usdm
    symbols: [BTCUSDT]
    intervals: [1m, 1s]
    max_streams_per_conn: 300
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 4);
  CHECK(has_error(r, 6, 29, "max_control_msgs_per_s (6) exceeds binance's limit of 5"));
  CHECK(has_error(r, 7, 21, "rotate_after_s: must be between 0 and 86340, got 86350"));
  CHECK(has_error(r, 11, 16, "'1s' is not an interval binance-usdm offers (valid: 1m 3m 5m 15m 30m 1h 2h "
                             "4h 6h 8h 12h 1d 3d 1w 1M)"));
  CHECK(has_error(r, 12, 27, "max_streams_per_conn (300) exceeds binance-usdm's 200"));
}

TEST_CASE("unwritten URLs and limits come from the venue", "[config][venue]") {
  const auto r = load(R"(
feeds:
  - name: perp
    exchange: binance-usdm
    symbols: [BTCUSDT]
    intervals: [1m]
  - name: spot
    exchange: binance
    symbols: [BTCUSDT]
    intervals: [1m]
    max_streams_per_conn: 10
    ws_url: wss://127.0.0.1:9443
)");
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const auto& perp = r.config->feeds[0];
  CHECK(perp.ws_url == "wss://fstream.binance.com");
  CHECK(perp.rest_url == "https://fapi.binance.com");
  CHECK(perp.max_streams_per_conn == 200);
  CHECK(perp.max_control_msgs_per_s == 8);
  CHECK(perp.rest_weight_per_min == 2400);
  CHECK(perp.rotate_after_s == 23 * 3600);
  const auto& spot = r.config->feeds[1];
  CHECK(spot.ws_url == "wss://127.0.0.1:9443");  // written values win
  CHECK(spot.rest_url == "https://api.binance.com");
  CHECK(spot.max_streams_per_conn == 10);
  CHECK(spot.max_control_msgs_per_s == 4);
  CHECK(spot.rest_weight_per_min == 6000);
}

TEST_CASE("URLs need a host and no query", "[config]") {
  const auto r = load(R"(
feeds:
  - name: binance
    exchange: binance
    ws_url: 'wss://'
    rest_url: https://api.binance.com/api?x=1
    symbols: [BTCUSDT]
    intervals: [1m]
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 2);
  CHECK(has_error(r, 4, 13,
                  "ws_url: needs a host and an optional port 1-65535 after wss://, got 'wss://'"));
  CHECK(has_error(r, 5, 15, "rest_url: must be a base URL without spaces, query or fragment"));
}

TEST_CASE("URL host and port forms", "[config]") {
  const auto with_ws = [](const std::string& url) {
    return load(
        "feeds:\n  - name: b\n    exchange: binance\n    ws_url: '" + url +
        "'\n    rest_url: https://api.binance.com\n    symbols: [BTCUSDT]\n    intervals: [1m]\n");
  };
  for (const char* good :
       {"wss://h", "wss://h:9443", "wss://[::1]:9443", "wss://[::1]", "wss://h:443/ws"}) {
    const auto r = with_ws(good);
    INFO(good << "\n" << all_errors(r));
    CHECK(r.ok());
  }
  for (const char* bad : {"wss://h:0", "wss://h:65536", "wss://h:", "wss://:9443", "wss://[::1",
                          "wss://::1:9443", "wss://u@h", "WSS://h"}) {
    const auto r = with_ws(bad);
    INFO(bad << "\n" << all_errors(r));
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 4, 13, "ws_url: "));
  }
}

TEST_CASE("rules across keys are reported at the later key", "[config]") {
  const auto r = load(R"(
shm:
  capacity: 64
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
    backfill_bars: 64
    ping_interval_s: 20
    pong_timeout_s: 20.5
    reconnect_min_ms: 5000
    reconnect_max_ms: 1000
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 3);
  CHECK(has_error(r, 10, 20, "backfill_bars (64) must be less than shm.capacity (64)"));
  CHECK(has_error(r, 12, 21, "pong_timeout_s (20.5) must be at least ping_interval_s + 1 (21)"));
  CHECK(has_error(r, 14, 23,
                  "reconnect_max_ms (1000) must not be less than reconnect_min_ms (5000)"));
}

TEST_CASE("a rule broken by a default is reported at the feed", "[config]") {
  const auto r = load(with_feed("\nshm:\n  capacity: 64\nfeeds:"));
  INFO(all_errors(r));
  CHECK(r.errors.size() == 1);
  CHECK(has_error(r, 4, 5, "backfill_bars (1000) must be less than shm.capacity (64)"));
}

TEST_CASE("unknown keys, with a suggestion when one is close", "[config]") {
  const auto r = load(R"(
shm:
  capacty: 1024
symbols: [BTCUSDT]
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
    interval: [5m]
    capacity: 64
    frobnicate: 1
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 5);
  CHECK(has_error(r, 2, 3, "unknown key 'shm.capacty' (did you mean 'shm.capacity'?)"));
  CHECK(has_error(r, 3, 1, "unknown key 'symbols' (it belongs inside each entry of 'feeds')"));
  CHECK(has_error(r, 11, 5, "unknown key 'interval' (did you mean 'intervals'?)"));
  CHECK(has_error(r, 12, 5,
                  "unknown key 'capacity' (did you mean 'shm.capacity' at the top level?)"));
  CHECK(has_error(r, 13, 5, "unknown key 'frobnicate'"));
  CHECK_FALSE(has_error(r, 13, 5, "did you mean"));
}

TEST_CASE("duplicate keys at the top level, in a section and in a feed", "[config]") {
  const auto r = load(R"(
log:
  level: info
shm:
  capacity: 1024
  capacity: 2048
log:
  level: debug
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
    symbols: [ETHUSDT]
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 3);
  CHECK(has_error(r, 5, 3, "duplicate key 'shm.capacity' (first at 4:3)"));
  CHECK(has_error(r, 6, 1, "duplicate key 'log' (first at 1:1)"));
  CHECK(has_error(r, 15, 5, "duplicate key 'symbols' (first at 13:5)"));
}

TEST_CASE("duplicate symbols and intervals are reported at the repeat", "[config]") {
  const auto r = load(R"(
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols:
      - BTCUSDT
      - ETHUSDT
      - BTCUSDT
    intervals: [1m, 5m, 1m]
)");
  INFO(all_errors(r));
  CHECK(r.errors.size() == 2);
  CHECK(has_error(r, 9, 9, "symbols: duplicate 'BTCUSDT' (first at 7:9)"));
  CHECK(has_error(r, 10, 25, "intervals: duplicate '1m' (first at 10:17)"));
}

TEST_CASE("duplicate feed names and missing required keys", "[config]") {
  const auto r = load(R"(
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
  - name: binance
    exchange: binance
    symbols: [BTCUSDT]
    intervals: [1m]
)");
  INFO(all_errors(r));
  // ws_url and rest_url are optional (the venue's production URLs): only the duplicate name.
  CHECK(r.errors.size() == 1);
  CHECK(has_error(r, 8, 11, "name: duplicate feed name 'binance' (first at 2:11)"));
}

TEST_CASE("at least one feed is required", "[config]") {
  SECTION("empty list") {
    const auto r = load("feeds: []\n");
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 1, 8, "feeds: at least one feed is required"));
  }
  SECTION("no value") {
    const auto r = load("feeds:\n");
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 1, 1, "feeds: at least one feed is required"));
  }
  SECTION("no key") {
    const auto r = load("log:\n  level: info\n");
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 1, 1, "the config is missing required key 'feeds'"));
  }
  SECTION("not a list") {
    const auto r = load("feeds: binance\n");
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 1, 8, "feeds: expected a list of feeds"));
  }
  SECTION("an entry that is not a mapping") {
    const auto r = load("feeds:\n  - binance\n");
    CHECK(r.errors.size() == 1);
    CHECK(has_error(r, 2, 5, "feeds: each feed must be a mapping"));
  }
}

TEST_CASE("invalid YAML is one error at the parser's position", "[config]") {
  const auto r = load(R"(
shm:
  capacity: 4096
    dir: /x
feeds: []
)");
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].column == 8);
  CHECK(r.errors[0].message == "invalid YAML: illegal map value");
  CHECK(r.errors[0].str() == "t.yaml:3:8: invalid YAML: illegal map value");
}

TEST_CASE("documents that are not one mapping", "[config]") {
  for (const char* empty : {"", "\n\n", "# only a comment\n"}) {
    const auto r = load(empty);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 0);
    CHECK(r.errors[0].str() == "t.yaml: the config is empty");
  }
  auto r = load("- a\n- b\n");
  CHECK(r.errors.size() == 1);
  CHECK(has_error(r, 1, 1, "expected a mapping (shm:, log:, metrics:, feeds:) at the top level"));
  r = load("feeds: []\n---\nlog: {}\n");
  CHECK(r.errors.size() == 1);
  CHECK(has_error(r, 3, 1, "expected one YAML document, found 2"));
  r = load("? [a, b]\n: 1\nfeeds: []\n");
  CHECK(has_error(r, 1, 3, "keys must be plain names"));
}

TEST_CASE("all errors come back together, in file order, environment last", "[config]") {
  const auto r = load(R"(
shm:
  capacity: 64
log:
  level: loud
feeds:
  - name: binance
    exchange: binance
    ws_url: ws://x
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
    backfill_bars: 100
)",
                      {{"MDFEED_INTERVALS", "7m"}});
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0].line == 4);   // log.level
  CHECK(r.errors[1].line == 8);   // ws_url
  CHECK(r.errors[2].line == 12);  // backfill_bars, found after the walk
  CHECK(r.errors[3].line == 0);   // $MDFEED_INTERVALS
  CHECK(r.errors[3].message.rfind("$MDFEED_INTERVALS: ", 0) == 0);
  CHECK_FALSE(r.config.has_value());
}

TEST_CASE("the loader never throws, whatever the input", "[config]") {
  std::vector<std::string> inputs = {"\t",
                                     "{",
                                     "[",
                                     "feeds: *x",
                                     "&a [*a]",
                                     "\x01\x02\xff",
                                     "feeds: !!binary AAAA",
                                     "shm: {capacity: {a: b}}",
                                     std::string(100000, '['),
                                     "feeds:\n  - &f {name: a}\n  - *f\n"};
  std::string example;
  {
    // Every prefix of a valid config: truncations hit every parser state.
    example = mdfeed::test::with_feed("\nshm:\n  capacity: 1024\nlog:\n  level: info\nfeeds:");
    for (std::size_t n = 0; n < example.size(); ++n) inputs.push_back(example.substr(0, n));
  }
  for (const auto& in : inputs) {
    mdfeed::LoadResult r;
    REQUIRE_NOTHROW(r = load(in));
    CHECK(r.ok() != !r.errors.empty());
    for (const auto& e : r.errors) {
      CHECK(e.line >= 0);
      CHECK(e.message.find("internal error") == std::string::npos);  // the net caught a bug
    }
  }
  CHECK(load(example).ok());
}

TEST_CASE("edge values in every string key are rejected cleanly", "[config]") {
  const std::map<std::string, std::string> valid = {
      {"name", "binance"},       {"exchange", "binance"}, {"ws_url", "wss://a"},
      {"rest_url", "https://a"}, {"ca_file", "''"},       {"symbols", "[BTCUSDT]"},
      {"intervals", "[1m]"}};
  const char* values[] = {"''",        "'/'", "'wss://'", "'wss:///'",  "'https://'",
                          "':'",       "'['", "']:1'",    "'wss://:1'", "'https://[::1]:'",
                          "\"a\\0b\"", "[]",  "['']",     "{}",         "~"};
  for (const auto& [key, unused] : valid) {
    for (const char* value : values) {
      auto feed = valid;
      feed[key] = value;
      std::string text = "feeds:\n  -";
      for (const auto& [k, v] : feed) text += " " + k + ": " + v + "\n   ";
      const auto r = load(text);
      INFO(text << "\n" << all_errors(r));
      const bool fine_as_is =
          key == "ca_file" && (std::string(value) == "''" || std::string(value) == "~");
      CHECK(r.ok() == fine_as_is);
      for (const auto& e : r.errors) CHECK(e.message.find("internal error") == std::string::npos);
    }
  }
}

TEST_CASE("venues with an application heartbeat get their ping defaults and a longer staleness",
          "[config][venue]") {
  const auto r = load(R"(
feeds:
  - name: okx
    exchange: okx
    symbols: [BTC-USDT]
    intervals: [1m, 1d]
  - name: bybit
    exchange: bybit-linear
    symbols: [BTCUSDT]
    intervals: [1m]
)");
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const auto& okx = r.config->feeds[0];
  CHECK(okx.ws_url == "wss://ws.okx.com:8443");
  CHECK(okx.heartbeat_s == 20);
  CHECK(okx.heartbeat_timeout_s == 10);
  CHECK(okx.stale_after_s == 75);     // OKX pushes on change: quiet instruments are not stale
  CHECK(okx.rotate_after_s == 0);     // no documented connection lifetime
  const auto& bybit = r.config->feeds[1];
  CHECK(bybit.ws_url == "wss://stream.bybit.com");
  CHECK(bybit.heartbeat_s == 20);
  CHECK(bybit.stale_after_s == 150);  // pushes every 1-60 s
}
