// Argument checks shared by the mdfeed-ctl commands.
#include "cli.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "mdfeed/names.hpp"

namespace mdfeed::ctl {

bool Invocation::flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::optional<std::string> Invocation::value(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

RingName parse_ring_name(const std::string& feed_symbol, const std::string& interval) {
  const auto colon = feed_symbol.find(':');
  const std::string quoted = "'" + feed_symbol + "'";
  if (colon == std::string::npos)
    throw UsageError("bad ring name " + quoted + ": expected FEED:SYMBOL, e.g. binance:BTCUSDT");
  RingName n;
  n.feed = feed_symbol.substr(0, colon);
  n.symbol = feed_symbol.substr(colon + 1);
  std::transform(n.symbol.begin(), n.symbol.end(), n.symbol.begin(),
                 [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
  n.interval = interval;
  if (!valid_feed_name(n.feed))
    throw UsageError("bad ring name " + quoted + ": the feed must be 1-31 of [a-z0-9_-]");
  if (!valid_symbol_name(n.symbol))
    throw UsageError("bad ring name " + quoted + ": the symbol must be 1-31 of [A-Z0-9_-]");
  if (!interval_ms(n.interval))
    throw UsageError("unknown interval '" + interval + "' (valid: " + interval_list() + ")");
  return n;
}

std::uint64_t parse_count(const std::string& text, const std::string& what, std::uint64_t lo,
                          std::uint64_t hi) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (r.ec != std::errc() || r.ptr != end || v < lo || v > hi)
    throw UsageError(what + " must be a whole number from " + std::to_string(lo) + " to " +
                     std::to_string(hi) + ", not '" + text + "'");
  return v;
}

std::chrono::milliseconds parse_seconds(const std::string& text, const std::string& what) {
  // strtod is locale-dependent in principle, but mdfeed-ctl never calls setlocale, so the
  // C locale (and '.') applies.
  char* end = nullptr;
  errno = 0;
  const double s = text.empty() ? -1.0 : std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || end != text.c_str() + text.size() || !std::isfinite(s) ||
      s <= 0.0 || s > 86400.0)
    throw UsageError(what + " must be a number of seconds in (0, 86400], not '" + text + "'");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(s * 1000.0)));
}

void require_shm_dir(const std::string& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    const int e = errno;
    throw std::runtime_error("shm directory " + dir + ": " + std::strerror(e) +
                             (e == ENOENT ? " (is the daemon running? pass --shm-dir or set "
                                            "MDFEED_SHM_DIR)"
                                          : ""));
  }
  if (!S_ISDIR(st.st_mode)) throw std::runtime_error("shm directory " + dir + " is not a directory");
}

void write_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace mdfeed::ctl
