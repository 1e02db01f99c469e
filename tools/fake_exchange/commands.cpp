// Strict parser for the fault-injection command language (see commands.hpp).
#include "fake_exchange/commands.hpp"

#include <charconv>
#include <cmath>
#include <vector>

#include "fake_exchange/market.hpp"
#include "fake_exchange/streams.hpp"
#include "mdfeed/names.hpp"

namespace mdfeed::fake {
namespace {

constexpr std::size_t kMaxWords = 8;

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size() && out.size() <= kMaxWords) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<std::int64_t> to_int(std::string_view s, std::int64_t lo, std::int64_t hi) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<double> to_seconds(std::string_view s) {
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || !std::isfinite(v) || v < 0 ||
      v > kMaxCommandSeconds)
    return std::nullopt;
  return v;
}

CommandParse fail(std::string msg) { return CommandParse{std::nullopt, std::move(msg)}; }
CommandParse ok(Command c) { return CommandParse{std::move(c), {}}; }

// Commands that take exactly one duration.
CommandParse parse_seconds_command(CommandKind kind, const std::vector<std::string_view>& w) {
  if (w.size() != 2) return fail("expected: " + std::string(w[0]) + " SECONDS");
  const auto s = to_seconds(w[1]);
  if (!s) return fail("bad SECONDS '" + std::string(w[1]) + "'");
  Command c;
  c.kind = kind;
  c.seconds = *s;
  return ok(std::move(c));
}

CommandParse parse_count_command(CommandKind kind, const std::vector<std::string_view>& w,
                                 std::int64_t lo, std::int64_t hi) {
  if (w.size() != 2) return fail("expected: " + std::string(w[0]) + " N");
  const auto n = to_int(w[1], lo, hi);
  if (!n)
    return fail("bad N '" + std::string(w[1]) + "' (range " + std::to_string(lo) + ".." +
                std::to_string(hi) + ")");
  Command c;
  c.kind = kind;
  c.count = *n;
  return ok(std::move(c));
}

CommandParse parse_skip_close(const std::vector<std::string_view>& w) {
  if (w.size() != 4) return fail("expected: skip-close SYMBOL INTERVAL N");
  // Any venue's instrument id (BTCUSDT, BTC-USDT-SWAP), as the daemon accepts them.
  if (!valid_symbol_name(w[1])) return fail("bad SYMBOL '" + std::string(w[1]) + "'");
  if (!valid_interval(w[2])) return fail("bad INTERVAL '" + std::string(w[2]) + "'");
  const auto n = to_int(w[3], 1, SkipRules::kMaxBars);
  if (!n) return fail("bad N '" + std::string(w[3]) + "'");
  Command c;
  c.kind = CommandKind::kSkipClose;
  c.symbol = std::string(w[1]);
  c.interval = std::string(w[2]);
  c.count = *n;
  return ok(std::move(c));
}

// rest-429 N [RETRY_AFTER_S] and rest-418 N RETRY_AFTER_S.
CommandParse parse_rest_fault(CommandKind kind, const std::vector<std::string_view>& w) {
  const bool need_retry = kind == CommandKind::kRest418;
  if (w.size() < (need_retry ? 3u : 2u) || w.size() > 3)
    return fail(need_retry ? "expected: rest-418 N RETRY_AFTER_S"
                           : "expected: rest-429 N [RETRY_AFTER_S]");
  const auto n = to_int(w[1], 1, kMaxRestFaultCount);
  if (!n) return fail("bad N '" + std::string(w[1]) + "'");
  Command c;
  c.kind = kind;
  c.count = *n;
  c.seconds = 1;
  if (w.size() == 3) {
    const auto s = to_seconds(w[2]);
    if (!s) return fail("bad RETRY_AFTER_S '" + std::string(w[2]) + "'");
    c.seconds = *s;
  }
  return ok(std::move(c));
}

CommandParse parse_no_arg(CommandKind kind, const std::vector<std::string_view>& w) {
  if (w.size() != 1) return fail(std::string(w[0]) + " takes no argument");
  Command c;
  c.kind = kind;
  return ok(std::move(c));
}

}  // namespace

CommandParse parse_command(std::string_view line) {
  const std::vector<std::string_view> w = words(line);
  if (w.empty()) return fail("empty command");
  if (w.size() > kMaxWords) return fail("too many words");
  const std::string_view verb = w[0];
  if (verb == "drop") return parse_no_arg(CommandKind::kDrop, w);
  if (verb == "stall") return parse_seconds_command(CommandKind::kStall, w);
  if (verb == "deaf") return parse_seconds_command(CommandKind::kDeaf, w);
  if (verb == "garbage") return parse_count_command(CommandKind::kGarbage, w, 1, kMaxGarbageFrames);
  if (verb == "oversize")
    return parse_count_command(CommandKind::kOversize, w, 1, kMaxOversizeBytes);
  if (verb == "fragment") {
    if (w.size() != 2 || (w[1] != "on" && w[1] != "off")) return fail("expected: fragment on|off");
    Command c;
    c.kind = CommandKind::kFragment;
    c.on = w[1] == "on";
    return ok(std::move(c));
  }
  if (verb == "skip-close") return parse_skip_close(w);
  if (verb == "rest-429") return parse_rest_fault(CommandKind::kRest429, w);
  if (verb == "rest-418") return parse_rest_fault(CommandKind::kRest418, w);
  if (verb == "shutdown-event") {
    if (w.size() > 1) return parse_seconds_command(CommandKind::kShutdownEvent, w);
    CommandParse r = parse_no_arg(CommandKind::kShutdownEvent, w);
    r.command->seconds = -1;  // announce only, never close
    return r;
  }
  if (verb == "max-conn-age") return parse_seconds_command(CommandKind::kMaxConnAge, w);
  if (verb == "outage") return parse_seconds_command(CommandKind::kOutage, w);
  if (verb == "ignore-pings") return parse_seconds_command(CommandKind::kIgnorePings, w);
  if (verb == "pause-clock") return parse_no_arg(CommandKind::kPauseClock, w);
  if (verb == "resume-clock") return parse_no_arg(CommandKind::kResumeClock, w);
  if (verb == "stats") return parse_no_arg(CommandKind::kStats, w);
  return fail("unknown command '" + std::string(verb) + "'");
}

}  // namespace mdfeed::fake
