// Command line of mdfeed-fake-exchange: one table (name, argument, help, apply) so usage text
// and parsing cannot drift apart. Errors throw std::invalid_argument (start-up only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdfeed::fake {

// 2023-11-14T00:00:00Z: aligned to the minute, hour and day, so default runs start on a
// boundary of every interval up to 1d.
inline constexpr std::int64_t kDefaultStartMs = 1'699'920'000'000;
inline constexpr std::int64_t kDefaultHistoryMs = 30LL * 86'400'000;

struct Options {
  // TLS and listening (always 127.0.0.1)
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // optional: cert_file is checked against it and the verdict printed
  std::string tls_min = "1.2";
  std::string tls_max = "1.3";
  std::string alpn = "http/1.1";
  int port = 0;  // 0 = ephemeral
  std::string ready_file;

  // Simulated clock
  std::int64_t start_ms = kDefaultStartMs;
  bool start_ms_set = false;
  double speed = 1.0;          // simulated ms per real ms
  std::int64_t update_ms = 0;  // real ms between kline updates; 0 = max(1, 2000 / speed)
  // Per-venue overrides of update_ms (--venue-update-ms), by fake venue name (binance,
  // binance-usdm, okx, bybit): each venue's real push period in one run.
  std::vector<std::pair<std::string, std::int64_t>> venue_update_ms;
  std::int64_t history_start_ms = 0;
  bool history_start_set = false;

  // Market and limits
  std::vector<std::string> invalid_symbols;
  std::int64_t rest_weight_limit = 6000;
  int ctrl_limit_per_s = 5;  // incoming messages (text, binary, pong) per second; 0 = no limit
  int ping_secs = 20;        // server pings after this idle time; 0 = never
  int max_streams = 1024;
  std::int64_t max_message_bytes = 65'536;  // largest client message accepted

  // Venues other than Binance spot (venues/*.cpp); the Binance spot limits are above.
  std::int64_t usdm_weight_limit = 2400;  // /fapi request weight per minute
  int usdm_max_streams = 200;             // streams per USD-M connection
  int usdm_ctrl_limit_per_s = 10;         // incoming messages per second on USD-M
  bool usdm_legacy_paths = false;         // /stream, /ws are USD-M's unrouted (silent) URLs
  std::int64_t okx_idle_ms = 30'000;      // OKX closes a connection idle this long
  std::int64_t bybit_idle_ms = 600'000;   // Bybit closes a connection idle this long
  std::int64_t bybit_rest_limit = 600;    // requests per 5 s per IP before the 403 ban
  std::int64_t bybit_ban_ms = 600'000;    // length of that ban

  // Modes
  bool flood = false;
  bool latency_probe = false;  // forming klines carry seq + CLOCK_MONOTONIC send ns (probe.hpp)
  std::string replay_file;
  double replay_speed = 1.0;
  std::vector<std::string> faults;  // commands applied at start, in order
  bool exit_on_stdin_eof = false;   // a test's pipe closing (the test died) stops the server
  bool verbose = false;
  std::string dump_truth;  // --dump-truth spec: print the truth and exit (truth_dump.hpp)
};

struct CliResult {
  Options options;
  bool help = false;
};

// Parses and validates argv; fills derived defaults (update_ms, history_start_ms).
[[nodiscard]] CliResult parse_cli(int argc, const char* const* argv);
[[nodiscard]] std::string usage();

// Real ms between kline updates on a connection of `venue` (a fake venue name).
[[nodiscard]] std::int64_t update_ms_for(const Options& o, std::string_view venue) noexcept;
// The shortest update period of any venue (the server's tick follows it).
[[nodiscard]] std::int64_t shortest_update_ms(const Options& o) noexcept;

// "1.0".."1.3" -> 0..3, or -1.
[[nodiscard]] int tls_version_index(const std::string& v) noexcept;

}  // namespace mdfeed::fake
