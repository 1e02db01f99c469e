// Internal: the config key tables (Redis style: name, type, bounds, default, rules, env var and
// reload class of every key in one place) and the value rules they point at.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace mdfeed::config_detail {

// Where a value came from: a position in the file, or an environment variable.
struct Loc {
  int line = 0;  // 1-based; 0 when env is set
  int column = 0;
  std::string env;  // variable name when the value came from the environment
};

// "12:5" or "$MDFEED_SYMBOLS".
[[nodiscard]] std::string where(const Loc& loc);

// What value rules need besides the value itself.
struct RuleContext {
  std::string base_dir;  // directory relative paths resolve against ("" = leave them alone)
};

// A string rule may normalise the value (strip a trailing '/', make a path absolute). It returns
// "" when the value is fine, else the message.
using StrRule = std::string (*)(std::string& value, const RuleContext& ctx);
using NumRule = std::string (*)(double value);

enum class Need : std::uint8_t { Optional, Required };
// Restart: a reload cannot apply a change (ConfigDiff::restart_needed lists it).
enum class Reload : std::uint8_t { Live, Restart };

// The member a key sets. Its type decides how the value is parsed: string, unsigned integer,
// number, list of strings, or (top level only) the feed list.
template <class T>
using Field = std::variant<std::string T::*, std::uint32_t T::*, double T::*,
                           std::vector<std::string> T::*, std::vector<FeedConfig> T::*>;

// Inclusive bounds for numbers; with min_open the value must be strictly greater than min.
struct Bounds {
  double min = 0;
  double max = 0;
  bool min_open = false;
};

// One row of a key table. The default is whatever a value-initialised T holds in `field`.
template <class T>
struct KeyDef {
  std::string_view path;  // dotted: "shm.capacity"; feed keys are relative to the feed entry
  Field<T> field;
  Need need;
  Reload reload;
  Bounds bounds;         // numbers only
  StrRule str_rule;      // strings, and each item of a list
  NumRule num_rule;      // numbers, after the bounds
  std::string_view env;  // overriding environment variable, or ""
};

[[nodiscard]] const std::vector<KeyDef<Config>>& top_keys();
[[nodiscard]] const std::vector<KeyDef<FeedConfig>>& feed_keys();

// Checks that involve more than one key of a feed. Reported at `key` (or at the feed when the
// key was not written). Returns "" when fine.
struct FeedRule {
  std::string_view key;
  std::string (*check)(const FeedConfig& feed, const Config& cfg);
};
[[nodiscard]] const std::vector<FeedRule>& feed_rules();

// Fills the keys a feed did not write from its venue's spec: URLs, connection and REST limits.
// Runs before feed_rules(), which then bound written values by the same limits.
void venue_defaults(FeedConfig& f, const std::function<bool(std::string_view)>& written);

// The candidate closest to `word` (a likely typo of it), or "" when none is close.
[[nodiscard]] std::string_view closest(std::string_view word,
                                       const std::vector<std::string_view>& candidates);

// "1024", "0.5": bounds and values in messages.
[[nodiscard]] std::string format_number(double v);

}  // namespace mdfeed::config_detail
