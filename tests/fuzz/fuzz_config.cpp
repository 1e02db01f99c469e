// Fuzz target: YAML text through load_config_string with an empty environment. Loading must never
// throw (an escaping exception is a crash here), and a config it accepts must satisfy every rule
// config.hpp documents; the checks below restate those rules independently of the key table.
#include <cmath>
#include <set>
#include <string>
#include <string_view>

#include <mdfeed/layout.hpp>
#include <mdfeed/names.hpp>

#include "config/config.hpp"
#include "fuzz_check.hpp"

namespace {

void check_feed(const mdfeed::FeedConfig& f, const mdfeed::Config& c) {
  MDFEED_FUZZ_CHECK(mdfeed::valid_feed_name(f.name));
  MDFEED_FUZZ_CHECK(f.ws_url.rfind("wss://", 0) == 0 && f.rest_url.rfind("https://", 0) == 0);
  MDFEED_FUZZ_CHECK(!f.symbols.empty() && !f.intervals.empty());
  MDFEED_FUZZ_CHECK(std::set<std::string>(f.symbols.begin(), f.symbols.end()).size() ==
                    f.symbols.size());
  MDFEED_FUZZ_CHECK(std::set<std::string>(f.intervals.begin(), f.intervals.end()).size() ==
                    f.intervals.size());
  for (const auto& s : f.symbols) MDFEED_FUZZ_CHECK(mdfeed::valid_symbol_name(s));
  for (const auto& i : f.intervals) MDFEED_FUZZ_CHECK(mdfeed::interval_ms(i).has_value());
  MDFEED_FUZZ_CHECK(f.backfill_bars < c.capacity);
  MDFEED_FUZZ_CHECK(std::isfinite(f.stale_after_s) && f.stale_after_s > 0);
  MDFEED_FUZZ_CHECK(std::isfinite(f.close_grace_s) && f.close_grace_s >= 0);
  MDFEED_FUZZ_CHECK(std::isfinite(f.rotate_after_s) && f.rotate_after_s >= 1);
  MDFEED_FUZZ_CHECK(std::isfinite(f.rest_timeout_s) && f.rest_timeout_s > 0);
  MDFEED_FUZZ_CHECK(std::isfinite(f.ping_interval_s) && std::isfinite(f.pong_timeout_s));
  MDFEED_FUZZ_CHECK(f.pong_timeout_s >= f.ping_interval_s + 1);
  MDFEED_FUZZ_CHECK(f.reconnect_min_ms >= 1 && f.reconnect_min_ms <= f.reconnect_max_ms);
  MDFEED_FUZZ_CHECK(f.max_streams_per_conn >= 1 && f.max_streams_per_conn <= 1024);
  MDFEED_FUZZ_CHECK(f.max_control_msgs_per_s >= 1 && f.max_control_msgs_per_s <= 5);
  MDFEED_FUZZ_CHECK(f.max_message_bytes >= 1024);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mdfeed::Environ env = mdfeed::environ_from({});
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  // No '/' in the name: a relative ca_file resolves against the working directory.
  const mdfeed::LoadResult r = mdfeed::load_config_string(yaml, "fuzz.yaml", env);

  MDFEED_FUZZ_CHECK(r.ok() == r.errors.empty());
  for (const auto& e : r.errors) {
    MDFEED_FUZZ_CHECK(!e.message.empty() && e.file == "fuzz.yaml");
    // The loader's last-resort catch: for a few KB of input, std::bad_alloc or any other
    // unexpected exception is a bug (yaml-cpp#1040 spins allocating until bad_alloc).
    MDFEED_FUZZ_CHECK(e.message.rfind("internal error", 0) == std::string::npos);
    MDFEED_FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    static_cast<void>(e.str());
  }
  if (!r.ok()) return 0;

  const mdfeed::Config& c = *r.config;
  MDFEED_FUZZ_CHECK(mdfeed::is_power_of_two(c.capacity) && c.capacity >= 64 &&
                    c.capacity <= (1U << 24));
  MDFEED_FUZZ_CHECK(c.heartbeat_ms >= 10 && c.heartbeat_ms <= 1000);
  MDFEED_FUZZ_CHECK(!c.shm_dir.empty() && c.shm_dir.front() == '/');
  MDFEED_FUZZ_CHECK(!c.feeds.empty());
  std::set<std::string> names;
  std::size_t stream_count = 0;
  for (const auto& f : c.feeds) {
    check_feed(f, c);
    MDFEED_FUZZ_CHECK(names.insert(f.name).second);
    stream_count += f.symbols.size() * f.intervals.size();
  }
  MDFEED_FUZZ_CHECK(mdfeed::streams(c).size() == stream_count);
  MDFEED_FUZZ_CHECK(mdfeed::diff(c, c).empty());
  MDFEED_FUZZ_CHECK(!mdfeed::describe(c).empty());
  return 0;
}
