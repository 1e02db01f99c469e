// The reload diff and the summary line: pure functions of two Configs.
#include <catch2/catch.hpp>

#include "config_test_util.hpp"

using mdfeed::Config;
using mdfeed::StreamKey;
using Keys = std::vector<StreamKey>;
using Strings = std::vector<std::string>;

namespace {

Config base() {
  const auto r = mdfeed::test::load(mdfeed::test::with_feed("\nfeeds:"));
  REQUIRE(r.ok());
  return *r.config;  // binance: BTCUSDT ETHUSDT x 1m 5m
}

mdfeed::FeedConfig second_feed() {
  mdfeed::FeedConfig f = base().feeds.at(0);
  f.name = "other";
  f.symbols = {"SOLUSDT"};
  f.intervals = {"1h"};
  return f;
}

}  // namespace

TEST_CASE("identical configs differ in nothing", "[config]") {
  const auto d = mdfeed::diff(base(), base());
  CHECK(d.empty());
  CHECK_FALSE(d.needs_restart());
}

TEST_CASE("symbol and interval changes are stream adds and removes, applied live", "[config]") {
  Config neu = base();
  neu.feeds[0].symbols = {"ETHUSDT", "BNBUSDT"};
  neu.feeds[0].intervals = {"5m", "1h"};
  const auto d = mdfeed::diff(base(), neu);
  CHECK(d.added == Keys{{"binance", "BNBUSDT", "1h"},
                        {"binance", "BNBUSDT", "5m"},
                        {"binance", "ETHUSDT", "1h"}});
  CHECK(d.removed == Keys{{"binance", "BTCUSDT", "1m"},
                          {"binance", "BTCUSDT", "5m"},
                          {"binance", "ETHUSDT", "1m"}});
  CHECK(d.changed == Strings{"feeds[binance].symbols", "feeds[binance].intervals"});
  CHECK_FALSE(d.needs_restart());

  // Swapping the arguments swaps added and removed.
  const auto back = mdfeed::diff(neu, base());
  CHECK(back.added == d.removed);
  CHECK(back.removed == d.added);
}

TEST_CASE("live settings change without a restart", "[config]") {
  Config neu = base();
  neu.log_level = "debug";
  neu.feeds[0].stale_after_s = 3;
  neu.feeds[0].close_grace_s = 1;
  const auto d = mdfeed::diff(base(), neu);
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  CHECK(d.changed ==
        Strings{"log.level", "feeds[binance].stale_after_s", "feeds[binance].close_grace_s"});
  CHECK_FALSE(d.needs_restart());
}

TEST_CASE("shm dir, capacity, URLs and CA need a restart", "[config]") {
  Config neu = base();
  neu.shm_dir = "/tmp/elsewhere";
  neu.capacity = 8192;
  neu.log_level = "warn";
  neu.feeds[0].ws_url = "wss://stream.binance.com:443";
  neu.feeds[0].rest_url = "https://api1.binance.com";
  neu.feeds[0].ca_file = "/etc/ssl/extra.pem";
  const auto d = mdfeed::diff(base(), neu);
  CHECK(d.needs_restart());
  CHECK(d.restart_needed == Strings{"shm.dir", "shm.capacity", "feeds[binance].ws_url",
                                    "feeds[binance].rest_url", "feeds[binance].ca_file"});
  CHECK(d.changed == Strings{"shm.dir", "shm.capacity", "log.level", "feeds[binance].ws_url",
                             "feeds[binance].rest_url", "feeds[binance].ca_file"});
}

TEST_CASE("a feed added or removed shows as its streams", "[config]") {
  Config two = base();
  two.feeds.push_back(second_feed());
  auto d = mdfeed::diff(base(), two);
  CHECK(d.added == Keys{{"other", "SOLUSDT", "1h"}});
  CHECK(d.removed.empty());
  CHECK(d.changed.empty());
  CHECK_FALSE(d.needs_restart());

  d = mdfeed::diff(two, base());
  CHECK(d.removed == Keys{{"other", "SOLUSDT", "1h"}});
  CHECK(d.added.empty());

  // Feeds are matched by name, not position.
  Config swapped;
  swapped = two;
  std::swap(swapped.feeds[0], swapped.feeds[1]);
  CHECK(mdfeed::diff(two, swapped).empty());
}

TEST_CASE("streams and describe", "[config]") {
  Config c = base();
  c.feeds.push_back(second_feed());
  c.metrics_listen = "127.0.0.1:9464";
  CHECK(mdfeed::streams(c) == Keys{{"binance", "BTCUSDT", "1m"},
                                   {"binance", "BTCUSDT", "5m"},
                                   {"binance", "ETHUSDT", "1m"},
                                   {"binance", "ETHUSDT", "5m"},
                                   {"other", "SOLUSDT", "1h"}});
  CHECK(
      mdfeed::describe(c) ==
      "2 feeds, 5 streams: binance(binance 2x2) other(binance 1x1); shm /dev/shm/mdfeed cap 4096; "
      "log info; metrics 127.0.0.1:9464");
}
