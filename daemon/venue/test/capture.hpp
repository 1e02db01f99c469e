// Loads a WebSocket capture from fixtures/ (format: fixtures/README.md) into one arena where
// every received payload is followed by the padding the venue parsers need. Shared by every
// venue's unit tests (daemon/<venue>/test/) and bench/parse; included as "venue/test/capture.hpp".
// Lines the client sent (" <- " after the URL, as in the OKX capture) are kept apart in `sent`.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "venue/types.hpp"

namespace mdfeed::testing {

struct Capture {
  struct Msg {
    std::size_t offset;
    std::size_t len;
  };
  std::string url;          // first line, up to " <-> "
  std::vector<char> arena;  // received payloads, each followed by kParsePadding zero bytes
  std::vector<Msg> msgs;
  std::vector<std::string> sent;  // payloads the client sent (subscribe requests)

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
  const std::string sent_marker = c.url + " <- ";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::size_t sep = line.find(": ");
    if (sep == std::string::npos) throw std::runtime_error("bad capture line in " + path);
    const std::string_view payload = std::string_view(line).substr(sep + 2);
    if (line.compare(0, sent_marker.size(), sent_marker) == 0) {
      c.sent.emplace_back(payload);
      continue;
    }
    c.msgs.push_back({c.arena.size(), payload.size()});
    c.arena.insert(c.arena.end(), payload.begin(), payload.end());
    c.arena.insert(c.arena.end(), venue::kParsePadding, '\0');
  }
  return c;
}

}  // namespace mdfeed::testing
