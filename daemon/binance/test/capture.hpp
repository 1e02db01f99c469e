// Loads a capture from fixtures/ (format: fixtures/README.md) into one arena where every payload
// is followed by the padding the parsers need. Shared by the unit tests and bench/parse.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "binance/messages.hpp"
#include "venue/types.hpp"

namespace mdfeed::testing {

struct Capture {
  struct Msg {
    std::size_t offset;
    std::size_t len;
  };
  std::string url;         // first line, up to " <-> "
  std::vector<char> arena;  // payloads, each followed by kParsePadding zero bytes
  std::vector<Msg> msgs;

  [[nodiscard]] std::size_t size() const noexcept { return msgs.size(); }
  [[nodiscard]] const char* data(std::size_t i) const noexcept { return arena.data() + msgs[i].offset; }
  [[nodiscard]] std::size_t len(std::size_t i) const noexcept { return msgs[i].len; }
  [[nodiscard]] std::size_t capacity(std::size_t i) const noexcept {
    return msgs[i].len + venue::kParsePadding;
  }
  [[nodiscard]] std::string_view text(std::size_t i) const noexcept { return {data(i), len(i)}; }
};

// $MDFEED_FIXTURES (set by ctest), else the source tree's fixtures/ (compile definition).
inline std::string fixtures_dir() {
  if (const char* env = std::getenv("MDFEED_FIXTURES"); env != nullptr && *env != '\0') return env;
  return MDFEED_FIXTURES_DIR_DEFAULT;
}

inline Capture load_capture(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open capture " + path);
  Capture c;
  std::string line;
  std::getline(in, line);
  c.url = line.substr(0, line.find(" <-> "));
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::size_t sep = line.find(": ");
    if (sep == std::string::npos) throw std::runtime_error("bad capture line in " + path);
    const std::string_view payload = std::string_view(line).substr(sep + 2);
    c.msgs.push_back({c.arena.size(), payload.size()});
    c.arena.insert(c.arena.end(), payload.begin(), payload.end());
    c.arena.insert(c.arena.end(), venue::kParsePadding, '\0');
  }
  return c;
}

inline const char* const kCaptureFiles[] = {
    "binance/BINANCE.ws.1.0",
    "binance/BINANCE_US.ws.1.0",
    "binance/BINANCE_FUTURES.ws.1.0",
    "binance/BINANCE_DELIVERY.ws.1.0",
};

}  // namespace mdfeed::testing
