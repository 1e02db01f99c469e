// Valid configs load with the values and defaults they say: the shipped example and demo files,
// file-level failures, path handling.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "config_test_util.hpp"
#include "test_util.hpp"

using mdfeed::test::all_errors;
using mdfeed::test::has_error;
using mdfeed::test::load;
using mdfeed::test::with_feed;

namespace {

const std::string kExample = MDFEED_CONFIG_DIR "/mdfeed.yaml";
const std::string kDemo = MDFEED_CONFIG_DIR "/demo.yaml";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// The advanced keys in FeedConfig, which the example documents commented out.
void check_advanced_defaults(const mdfeed::FeedConfig& f) {
  const mdfeed::FeedConfig d;
  CHECK(f.max_streams_per_conn == d.max_streams_per_conn);
  CHECK(f.rotate_after_s == d.rotate_after_s);
  CHECK(f.max_message_bytes == d.max_message_bytes);
  CHECK(f.ping_interval_s == d.ping_interval_s);
  CHECK(f.pong_timeout_s == d.pong_timeout_s);
  CHECK(f.reconnect_min_ms == d.reconnect_min_ms);
  CHECK(f.reconnect_max_ms == d.reconnect_max_ms);
  CHECK(f.rest_weight_per_min == d.rest_weight_per_min);
  CHECK(f.max_control_msgs_per_s == d.max_control_msgs_per_s);
  CHECK(f.rest_timeout_s == d.rest_timeout_s);
  CHECK(f.heartbeat_s == d.heartbeat_s);
  CHECK(f.heartbeat_timeout_s == d.heartbeat_timeout_s);
}

}  // namespace

TEST_CASE("the example config/mdfeed.yaml loads", "[config]") {
  const auto r = mdfeed::load_config_file(kExample, mdfeed::environ_from({}));
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const mdfeed::Config& c = *r.config;
  CHECK(c.source_path == kExample);
  CHECK(c.shm_dir == "/dev/shm/mdfeed");
  CHECK(c.capacity == 4096);
  CHECK(c.heartbeat_ms == 500);
  CHECK(c.log_level == "info");
  CHECK(c.metrics_listen.empty());
  REQUIRE(c.feeds.size() == 1);
  const mdfeed::FeedConfig& f = c.feeds[0];
  CHECK(f.name == "binance");
  CHECK(f.exchange == "binance");
  CHECK(f.ws_url == "wss://stream.binance.com:9443");
  CHECK(f.rest_url == "https://api.binance.com");
  CHECK(f.ca_file.empty());
  CHECK(f.symbols == std::vector<std::string>{"BTCUSDT", "ETHUSDT"});
  CHECK(f.intervals == std::vector<std::string>{"1m", "5m", "1h"});
  CHECK(f.backfill_bars == 1000);
  CHECK(f.stale_after_s == 10);
  CHECK(f.close_grace_s == 15);
  check_advanced_defaults(f);
  CHECK(mdfeed::describe(c) ==
        "1 feed, 6 streams: binance(binance 2x3); shm /dev/shm/mdfeed cap 4096; log info; metrics "
        "off");
}

TEST_CASE("the example's commented advanced keys are real keys at their defaults", "[config]") {
  // Uncomment "    # key: value   # why" lines; the doc must not drift from the table.
  const std::regex commented(R"(^(\s+)# ([a-z_]+: \S+)(.*)$)");
  std::istringstream in(read_text(kExample));
  std::string line, text;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (std::regex_match(line, commented)) {
      line = std::regex_replace(line, commented, "$1$2$3");
      ++uncommented;
    }
    text += line + "\n";
  }
  CHECK(uncommented == 12);
  const auto r = mdfeed::load_config_string(text, kExample, mdfeed::environ_from({}));
  INFO(all_errors(r));
  REQUIRE(r.ok());
  check_advanced_defaults(r.config->feeds.at(0));
}

TEST_CASE("config/demo.yaml loads once its placeholders are filled in", "[config]") {
  mdfeed::test::TempDir dir("mdfeed-config");
  const std::string ca = dir.path() + "/ca.pem";
  write_text(ca, "not parsed by the loader, only opened\n");
  std::string text = read_text(kDemo);
  text = replace_all(text, "@PORT@", "19443");
  text = replace_all(text, "@CA@", ca);
  text = replace_all(text, "@SHM@", dir.path() + "/shm");
  const auto r = mdfeed::load_config_string(text, kDemo, mdfeed::environ_from({}));
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const auto& f = r.config->feeds.at(0);
  CHECK(r.config->shm_dir == dir.path() + "/shm");
  CHECK(f.ws_url == "wss://127.0.0.1:19443");
  CHECK(f.rest_url == "https://127.0.0.1:19443");
  CHECK(f.ca_file == ca);
  CHECK(f.symbols == std::vector<std::string>{"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"});
  CHECK(f.intervals == std::vector<std::string>{"1m", "5m", "1h"});
  // Binance 4x3, OKX 3x3 and Bybit linear 2x2: three venues side by side.
  REQUIRE(r.config->feeds.size() == 3);
  CHECK(r.config->feeds[1].exchange == "okx");
  CHECK(r.config->feeds[2].exchange == "bybit-linear");
  CHECK(mdfeed::streams(*r.config).size() == 12 + 9 + 4);

  // Unfilled placeholders are config errors, not a crash or a silent default.
  const auto raw = mdfeed::load_config_file(kDemo, mdfeed::environ_from({}));
  CHECK_FALSE(raw.ok());
  CHECK(has_error(raw, 7, 8, "shm.dir: must be an absolute path, got '@SHM@'"));
}

TEST_CASE("a file that cannot be read names the path and the reason", "[config]") {
  mdfeed::test::TempDir dir("mdfeed-config");
  const std::string missing = dir.path() + "/nope.yaml";
  auto r = mdfeed::load_config_file(missing, mdfeed::environ_from({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].file == missing);
  CHECK(r.errors[0].line == 0);
  CHECK(r.errors[0].str() ==
        missing + ": cannot read config file '" + missing + "': No such file or directory");

  r = mdfeed::load_config_file(dir.path(), mdfeed::environ_from({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "cannot read config file '" + dir.path() + "': Is a directory");

  const std::string empty = dir.path() + "/empty.yaml";
  write_text(empty, "");
  r = mdfeed::load_config_file(empty, mdfeed::environ_from({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].str() == empty + ": the config is empty");
}

TEST_CASE("a minimal feed gets every default from the structs", "[config]") {
  const auto r = load(with_feed("\nfeeds:"));
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const mdfeed::Config d;
  CHECK(r.config->shm_dir == d.shm_dir);
  CHECK(r.config->capacity == d.capacity);
  CHECK(r.config->heartbeat_ms == d.heartbeat_ms);
  CHECK(r.config->log_level == d.log_level);
  CHECK(r.config->metrics_listen == d.metrics_listen);
  const auto& f = r.config->feeds.at(0);
  const mdfeed::FeedConfig fd;
  CHECK(f.ca_file == fd.ca_file);
  CHECK(f.backfill_bars == fd.backfill_bars);
  CHECK(f.stale_after_s == fd.stale_after_s);
  CHECK(f.close_grace_s == fd.close_grace_s);
  check_advanced_defaults(f);
}

TEST_CASE("every key can be set, and values are normalised", "[config]") {
  const auto r = load(R"(
shm:
  dir: /tmp/rings/
  capacity: 64
  heartbeat_ms: 100
log:
  level: warn
metrics:
  listen: 127.0.0.1:9464
feeds:
  - name: binance_test-1
    exchange: binance
    ws_url: wss://127.0.0.1:9443/
    rest_url: https://127.0.0.1:9443/
    ca_file:
    symbols: [BTCUSDT]
    intervals: [1s, 1M]
    backfill_bars: 63
    stale_after_s: 0.5
    close_grace_s: 0
    max_streams_per_conn: 2
    rotate_after_s: 5
    max_message_bytes: 1024
    ping_interval_s: 1
    pong_timeout_s: 2
    reconnect_min_ms: 10
    reconnect_max_ms: 10
    rest_weight_per_min: 100
    max_control_msgs_per_s: 5
    rest_timeout_s: 0.25
)");
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const auto& c = *r.config;
  CHECK(c.shm_dir == "/tmp/rings");
  CHECK(c.capacity == 64);
  CHECK(c.heartbeat_ms == 100);
  CHECK(c.log_level == "warn");
  CHECK(c.metrics_listen == "127.0.0.1:9464");
  const auto& f = c.feeds.at(0);
  CHECK(f.name == "binance_test-1");
  CHECK(f.ws_url == "wss://127.0.0.1:9443");
  CHECK(f.rest_url == "https://127.0.0.1:9443");
  CHECK(f.ca_file.empty());
  CHECK(f.intervals == std::vector<std::string>{"1s", "1M"});
  CHECK(f.backfill_bars == 63);
  CHECK(f.stale_after_s == 0.5);
  CHECK(f.close_grace_s == 0);
  CHECK(f.max_streams_per_conn == 2);
  CHECK(f.rotate_after_s == 5);
  CHECK(f.max_message_bytes == 1024);
  CHECK(f.ping_interval_s == 1);
  CHECK(f.pong_timeout_s == 2);
  CHECK(f.reconnect_min_ms == 10);
  CHECK(f.reconnect_max_ms == 10);
  CHECK(f.rest_weight_per_min == 100);
  CHECK(f.max_control_msgs_per_s == 5);
  CHECK(f.rest_timeout_s == 0.25);
}

TEST_CASE("a relative ca_file is relative to the config file", "[config]") {
  mdfeed::test::TempDir dir("mdfeed-config");
  const std::string cfg = dir.path() + "/mdfeed.yaml";
  const std::string body = R"(feeds:
  - name: binance
    exchange: binance
    ws_url: wss://127.0.0.1:9443
    rest_url: https://127.0.0.1:9443
    ca_file: CA_FILE
    symbols: [BTCUSDT]
    intervals: [1m]
)";
  write_text(dir.path() + "/ca.pem", "x\n");
  write_text(cfg, replace_all(body, "CA_FILE", "ca.pem"));
  auto r = mdfeed::load_config_file(cfg, mdfeed::environ_from({}));
  INFO(all_errors(r));
  REQUIRE(r.ok());
  CHECK(r.config->feeds.at(0).ca_file == dir.path() + "/ca.pem");

  // A directory is not a CA bundle; the error carries the resolved path.
  write_text(cfg, replace_all(body, "CA_FILE", "."));
  r = mdfeed::load_config_file(cfg, mdfeed::environ_from({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].str() ==
        cfg + ":6:14: ca_file: cannot read '" + dir.path() + "/.': Is a directory");
}
