// mdfeed-ctl internals shared by the commands: the parsed command line, exit codes, and the
// argument checks every command uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mdfeed::ctl {

// Exit codes. status: 0 healthy, 1 degraded, 2 down. Other commands: 0 ok, 1 runtime error
// (missing directory or ring, unreadable file, tail timeout). Any command: 64 usage (sysexits).
inline constexpr int kExitOk = 0;
inline constexpr int kExitDegraded = 1;
inline constexpr int kExitError = 1;
inline constexpr int kExitDown = 2;
inline constexpr int kExitUsage = 64;

// A bad command line: printed with a pointer to --help, exit 64.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Invocation {
  std::string shm_dir;                        // resolved: --shm-dir, $MDFEED_SHM_DIR, default
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --opt VALUE, by long name
  std::vector<std::string> flags;             // --flag, by long name

  [[nodiscard]] bool flag(const std::string& name) const;
  [[nodiscard]] std::optional<std::string> value(const std::string& name) const;
};

// feed, symbol and interval of a ring, checked against the naming rules.
struct RingName {
  std::string feed;
  std::string symbol;
  std::string interval;
  [[nodiscard]] std::string label() const { return feed + ":" + symbol + " " + interval; }
};

// "binance:BTCUSDT" + "1m". The symbol is upper-cased (Binance's spelling); anything that is
// not a valid name (say "binance:btc/../x") is a UsageError naming the rule it breaks.
[[nodiscard]] RingName parse_ring_name(const std::string& feed_symbol, const std::string& interval);
// A whole number in [lo, hi], else UsageError naming the option.
[[nodiscard]] std::uint64_t parse_count(const std::string& text, const std::string& what,
                                        std::uint64_t lo, std::uint64_t hi);
// Seconds (fractions allowed, e.g. 0.5) in (0, 1 day], else UsageError.
[[nodiscard]] std::chrono::milliseconds parse_seconds(const std::string& text,
                                                      const std::string& what);
// Throws std::runtime_error with a hint when the shm directory is missing or not a directory.
void require_shm_dir(const std::string& dir);

int run_status(const Invocation& inv);
int run_bars(const Invocation& inv);
int run_list(const Invocation& inv);
int run_tail(const Invocation& inv);

// Writes all of s to stdout and flushes (tail prints one update at a time).
void write_out(const std::string& s);

}  // namespace mdfeed::ctl
