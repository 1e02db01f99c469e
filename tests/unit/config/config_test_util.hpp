// Helpers for the config tests: load YAML text with a private environment, and look for one
// error by exact position and message fragment.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace mdfeed::test {

// Drops the newline after R"( so line 1 of the YAML is the line after it.
inline std::string yaml(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

inline LoadResult load(std::string_view text, std::map<std::string, std::string> env = {}) {
  return load_config_string(yaml(text), "t.yaml", environ_from(std::move(env)));
}

inline std::string all_errors(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.str() + "\n";
  return s;
}

// True if some error sits exactly at line:column and its message contains `text`.
inline bool has_error(const LoadResult& r, int line, int column, std::string_view text) {
  for (const auto& e : r.errors)
    if (e.line == line && e.column == column && e.message.find(text) != std::string::npos)
      return true;
  return false;
}

// The feed lines shared by many tests; 6 lines, the entry starting at column 5 of its first.
inline constexpr std::string_view kFeed = R"(
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT, ETHUSDT]
    intervals: [1m, 5m])";

// `head` (ending with a "feeds:" line) followed by kFeed.
inline std::string with_feed(std::string_view head) {
  return std::string(head) + std::string(kFeed) + "\n";
}

}  // namespace mdfeed::test
