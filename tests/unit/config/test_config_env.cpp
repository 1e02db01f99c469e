// Environment overrides: applied after the file, to every feed, validated like file values, and
// reported by variable name.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "config_test_util.hpp"

using mdfeed::test::all_errors;
using mdfeed::test::load;

namespace {

constexpr const char* kTwoFeeds = R"(
shm:
  dir: /tmp/from-file
log:
  level: info
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
  - name: binance2
    exchange: binance
    ws_url: wss://stream.binance.com:443
    rest_url: https://api.binance.com
    symbols: [ETHUSDT]
    intervals: [5m]
)";

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("environment variables override the file, for every feed", "[config]") {
  const auto r = load(kTwoFeeds, {{"MDFEED_SHM_DIR", "/tmp/from-env/"},
                                  {"MDFEED_LOG_LEVEL", " debug "},
                                  {"MDFEED_SYMBOLS", " SOLUSDT , BNBUSDT,, "},
                                  {"MDFEED_INTERVALS", "1h,1d"}});
  INFO(all_errors(r));
  REQUIRE(r.ok());
  CHECK(r.config->shm_dir == "/tmp/from-env");
  CHECK(r.config->log_level == "debug");
  REQUIRE(r.config->feeds.size() == 2);
  for (const auto& f : r.config->feeds) {
    CHECK(f.symbols == Strings{"SOLUSDT", "BNBUSDT"});
    CHECK(f.intervals == Strings{"1h", "1d"});
  }
}

TEST_CASE("unset or empty variables leave the file's values", "[config]") {
  const auto r =
      load(kTwoFeeds, {{"MDFEED_SYMBOLS", ""}, {"MDFEED_LOG_LEVEL", "  "}, {"OTHER", "x"}});
  INFO(all_errors(r));
  REQUIRE(r.ok());
  CHECK(r.config->shm_dir == "/tmp/from-file");
  CHECK(r.config->log_level == "info");
  CHECK(r.config->feeds.at(0).symbols == Strings{"BTCUSDT"});
  CHECK(r.config->feeds.at(1).symbols == Strings{"ETHUSDT"});
  CHECK(r.config->feeds.at(1).intervals == Strings{"5m"});
}

TEST_CASE("bad environment values name the variable, once however many feeds", "[config]") {
  const auto r = load(kTwoFeeds, {{"MDFEED_SHM_DIR", "relative"},
                                  {"MDFEED_LOG_LEVEL", "loud"},
                                  {"MDFEED_SYMBOLS", "btcusdt,BTCUSDT,BTCUSDT"},
                                  {"MDFEED_INTERVALS", "1m,2m"}});
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 5);
  for (const auto& e : r.errors) {
    CHECK(e.line == 0);
    CHECK(e.column == 0);
    CHECK(e.file == "t.yaml");
  }
  // Table order: top-level keys, then feed keys; within a variable, item order.
  CHECK(r.errors[0].str() ==
        "t.yaml: $MDFEED_SHM_DIR: shm.dir: must be an absolute path, got 'relative'");
  CHECK(r.errors[1].message.rfind("$MDFEED_LOG_LEVEL: log.level: 'loud' is not a log level", 0) ==
        0);
  CHECK(r.errors[2].message ==
        "$MDFEED_SYMBOLS: symbols: 'btcusdt' must be upper case (did you mean 'BTCUSDT'?)");
  CHECK(r.errors[3].message == "$MDFEED_SYMBOLS: symbols: duplicate 'BTCUSDT' (listed twice)");
  CHECK(r.errors[4].message.rfind(
            "$MDFEED_INTERVALS: intervals: '2m' is not an mdfeed interval", 0) == 0);
}

TEST_CASE("a list variable with no items is an error", "[config]") {
  const auto r = load(kTwoFeeds, {{"MDFEED_SYMBOLS", " , ,"}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "$MDFEED_SYMBOLS: symbols: must not be empty");
}

TEST_CASE("the environment can supply required feed keys", "[config]") {
  const char* feed_without_lists = R"(
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
)";
  auto r = load(feed_without_lists, {{"MDFEED_SYMBOLS", "BTCUSDT"}, {"MDFEED_INTERVALS", "1m"}});
  INFO(all_errors(r));
  REQUIRE(r.ok());
  CHECK(r.config->feeds.at(0).symbols == Strings{"BTCUSDT"});

  r = load(feed_without_lists, {{"MDFEED_SYMBOLS", "BTCUSDT"}});
  REQUIRE(r.errors.size() == 1);
  CHECK(mdfeed::test::has_error(r, 2, 5, "this feed is missing required key 'intervals'"));
}

TEST_CASE("process_environ reads the real environment", "[config]") {
  // This binary is its own process under ctest, so touching its environment is safe.
  ::setenv("MDFEED_CONFIG_TEST_VAR", "x,y", 1);
  const auto env = mdfeed::process_environ();
  CHECK(env("MDFEED_CONFIG_TEST_VAR") == std::optional<std::string>("x,y"));
  ::unsetenv("MDFEED_CONFIG_TEST_VAR");
  CHECK_FALSE(env("MDFEED_CONFIG_TEST_VAR").has_value());
}
