// The daemon's configuration: YAML file plus environment overrides, turned into a validated
// Config. Loading never throws for bad input; every problem comes back with its line and column.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed {

// One feed: one venue, one namespace of rings. The defaults here are the defaults of the config
// file (the key table in config_keys.cpp points at these members), except where the venue has its
// own (URLs, connection and REST limits: config_detail::venue_defaults).
struct FeedConfig {
  std::string name;      // ring namespace, valid_feed_name()
  std::string exchange;  // a venue of the registry (daemon/venue/registry.cpp)
  std::string ws_url;    // wss:// only, no trailing '/'; default: the venue's production URL
  std::string rest_url;  // https:// only, no trailing '/'; default: the venue's production URL
  std::string ca_file;  // extra CA bundle; absolute (relative paths resolve against the file's dir)
  std::vector<std::string> symbols;    // upper case, unique
  std::vector<std::string> intervals;  // canonical names (kIntervals) the venue serves, unique
  std::uint32_t backfill_bars = 1000;  // closed bars fetched at start, < shm capacity
  double stale_after_s = 10;           // no kline data this long on a connection: reconnect
  double close_grace_s = 15;           // closing update this late (exchange time): fetch over REST

  // Advanced: venue limits and connection tuning (documented in config/mdfeed.yaml). The
  // values below are Binance spot's; an unwritten key takes the feed's venue's.
  std::uint32_t max_streams_per_conn = 1024;   // Binance allows 1024 per connection
  double rotate_after_s = 23 * 3600;           // make-before-break ahead of the venue's cut; 0 never
  std::uint32_t max_message_bytes = 1u << 20;  // larger frames: close with 1009
  double ping_interval_s = 20;             // WebSocket ping after this long with nothing received
  double pong_timeout_s = 40;              // hang up after this long with nothing received; >= ping_interval_s + 1
  std::uint32_t reconnect_min_ms = 250;    // first backoff step
  std::uint32_t reconnect_max_ms = 30000;  // backoff ceiling; >= reconnect_min_ms
  std::uint32_t rest_weight_per_min = 6000;  // REST weight budget
  // Binance counts pings and pongs against its 5 incoming messages/s, so leave room for one.
  std::uint32_t max_control_msgs_per_s = 4;
  double rest_timeout_s = 10;
  // The venue's application heartbeat (OKX text ping, Bybit op:ping): period, and how long a
  // ping may go unanswered before the connection is replaced. Defaults: the venue's.
  double heartbeat_s = 0;          // 0: none (the server pings, as Binance)
  double heartbeat_timeout_s = 10;
};

struct Config {
  std::string shm_dir = "/dev/shm/mdfeed";  // absolute, no trailing '/'
  std::uint32_t capacity = 4096;            // bars per ring, power of two in [64, 2^24]
  std::uint32_t heartbeat_ms = 500;         // ring heartbeat period; readers call >~2 s dead
  std::string log_level = "info";           // trace debug info warn error critical off
  std::string metrics_listen;               // "" (off) or host:port
  std::vector<FeedConfig> feeds;            // at least one, unique names
  std::string source_path;                  // the file (or name) this was loaded from
};

// One problem found while loading. line/column are 1-based; 0 means "no position": the file
// could not be read, or the value came from an environment variable (named in the message).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "file:line:col: message", or "file: message" without a position.
  [[nodiscard]] std::string str() const;
};

struct LoadResult {
  std::optional<Config> config;     // set if and only if errors is empty
  std::vector<ConfigError> errors;  // in file order; environment errors last

  [[nodiscard]] bool ok() const noexcept { return config.has_value(); }
};

// Environment lookup: the value, or nullopt when unset. Tests pass environ_from() instead of
// calling setenv, so they can run in parallel. An empty value counts as unset.
using Environ = std::function<std::optional<std::string>(std::string_view name)>;
[[nodiscard]] Environ process_environ();
[[nodiscard]] Environ environ_from(std::map<std::string, std::string> vars);

[[nodiscard]] LoadResult load_config_file(const std::string& path,
                                          const Environ& env = process_environ());
// `name` is used in errors and as Config::source_path; relative ca_file paths resolve against
// its directory when it contains a '/'.
[[nodiscard]] LoadResult load_config_string(std::string_view yaml, std::string_view name,
                                            const Environ& env = process_environ());

struct StreamKey {
  std::string feed, symbol, interval;

  friend bool operator==(const StreamKey& a, const StreamKey& b) {
    return a.feed == b.feed && a.symbol == b.symbol && a.interval == b.interval;
  }
  friend bool operator<(const StreamKey& a, const StreamKey& b) {
    if (a.feed != b.feed) return a.feed < b.feed;
    if (a.symbol != b.symbol) return a.symbol < b.symbol;
    return a.interval < b.interval;
  }
};

// Every (feed, symbol, interval) the config asks for, in config order.
[[nodiscard]] std::vector<StreamKey> streams(const Config& cfg);

// One line for the log, e.g.
// "2 feeds, 12 streams: binance(binance 2x3) demo(binance 2x3); shm /dev/shm/mdfeed cap 4096; log
// info"
[[nodiscard]] std::string describe(const Config& cfg);

// What a reload from `old_cfg` to `new_cfg` changes. Feeds are matched by name.
struct ConfigDiff {
  std::vector<StreamKey> added;    // sorted
  std::vector<StreamKey> removed;  // sorted
  // Keys whose value changed, e.g. "log.level", "feeds[binance].stale_after_s".
  std::vector<std::string> changed;
  // The subset of `changed` a live reload cannot apply (shm dir, capacity, URLs, ...).
  std::vector<std::string> restart_needed;

  [[nodiscard]] bool needs_restart() const noexcept { return !restart_needed.empty(); }
  [[nodiscard]] bool empty() const noexcept {
    return added.empty() && removed.empty() && changed.empty();
  }
};

[[nodiscard]] ConfigDiff diff(const Config& old_cfg, const Config& new_cfg);

}  // namespace mdfeed
