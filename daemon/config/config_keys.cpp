// The key tables and the value rules. Adding a key = one member in config.hpp, one row here, and
// a line in config/mdfeed.yaml.
#include "config/config_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mdfeed/names.hpp"
#include "venue/venue.hpp"

namespace mdfeed {

namespace config_detail {
namespace {

constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

void strip_trailing_slashes(std::string& s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
}

std::string rule_absolute_dir(std::string& v, const RuleContext&) {
  // Readers find rings by this path too; a relative one would depend on each process's cwd.
  if (v.empty() || v.front() != '/') return "must be an absolute path, got " + quoted(v);
  strip_trailing_slashes(v);
  return {};
}

std::string rule_log_level(std::string& v, const RuleContext&) {
  for (auto l : kLogLevels)
    if (v == l) return {};
  return quoted(v) + " is not a log level (valid: trace debug info warn error critical off)";
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

// "host", "host:port", "[v6]" or "[v6]:port". An IPv6 host has colons of its own, so it must be
// bracketed. Hosts are not resolved here: DNS would block start-up.
bool valid_authority(std::string_view a, bool port_required) {
  std::string_view host = a;
  std::string_view port;
  bool has_port = false;
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    host = a.substr(1, close - 1);
    const std::string_view after = a.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
  } else if (const auto colon = a.find(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
    has_port = true;
    if (host.find_first_of("[]") != std::string_view::npos) return false;
  }
  if (host.empty() || host.find_first_of(" \t/?#@") != std::string_view::npos) return false;
  if (has_port) return valid_port(port);
  return !port_required;
}

std::string rule_listen(std::string& v, const RuleContext&) {
  if (v.empty() || valid_authority(v, true)) return {};  // empty: metrics off
  return "must be empty or host:port (e.g. 127.0.0.1:9464), got " + quoted(v);
}

std::string rule_feed_name(std::string& v, const RuleContext&) {
  if (valid_feed_name(v)) return {};
  return quoted(v) + " is not a valid feed name (allowed: [a-z0-9_-], 1 to 31 characters)";
}

// The venue registry (daemon/venue/registry.cpp) is the only list of exchanges.
std::string rule_exchange(std::string& v, const RuleContext&) {
  if (venue::find(v) != nullptr) return {};
  return quoted(v) + " is not a known exchange (known: " + venue::name_list() + ")";
}

// Base URL rule shared by ws_url and rest_url. TLS is not optional: there is no plain scheme.
std::string check_url(std::string& v, std::string_view scheme, std::string_view plain) {
  if (v.compare(0, plain.size(), plain) == 0)
    return std::string(plain) + " is never used; write " + std::string(scheme) + " (got " +
           quoted(v) + ")";
  if (v.compare(0, scheme.size(), scheme) != 0)
    return "must start with " + std::string(scheme) + ", got " + quoted(v);
  while (v.size() > scheme.size() && v.back() == '/') v.pop_back();  // never into the scheme
  const std::string_view rest = std::string_view(v).substr(scheme.size());
  if (rest.find_first_of(" \t?#") != std::string_view::npos)
    return "must be a base URL without spaces, query or fragment, got " + quoted(v);
  if (!valid_authority(rest.substr(0, rest.find('/')), false))
    return "needs a host and an optional port 1-65535 after " + std::string(scheme) + ", got " +
           quoted(v);
  return {};
}

std::string rule_wss_url(std::string& v, const RuleContext&) {
  return check_url(v, "wss://", "ws://");
}
std::string rule_https_url(std::string& v, const RuleContext&) {
  return check_url(v, "https://", "http://");
}

// Fail at load time, with the path, rather than as an opaque TLS error on the first connect.
std::string rule_ca_file(std::string& v, const RuleContext& ctx) {
  if (v.empty()) return {};
  if (v.front() != '/' && !ctx.base_dir.empty()) v = ctx.base_dir + "/" + v;
  const int fd = ::open(v.c_str(), O_RDONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      err = errno;
    else if (S_ISDIR(st.st_mode))
      err = EISDIR;
    ::close(fd);
  }
  if (err == 0) return {};
  return "cannot read " + quoted(v) + ": " + std::strerror(err);
}

std::string rule_symbol(std::string& v, const RuleContext&) {
  if (valid_symbol_name(v)) return {};
  std::string upper = v;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  });
  if (valid_symbol_name(upper))
    return quoted(v) + " must be upper case (did you mean " + quoted(upper) + "?)";
  return quoted(v) + " is not a valid symbol (allowed: [A-Z0-9_-], 1 to 31 characters)";
}

// Canonical names here; whether the feed's venue serves it is venue_serves_intervals().
std::string rule_interval(std::string& v, const RuleContext&) {
  if (interval_ms(v)) return {};
  return quoted(v) + " is not an mdfeed interval (valid: " + interval_list() + ")";
}

std::string venue_serves_intervals(const FeedConfig& f, const Config&) {
  const venue::Spec* v = venue::find(f.exchange);
  if (v == nullptr) return {};  // rule_exchange said so
  for (const auto& i : f.intervals)
    if (interval_ms(i) && !v->venue_interval(i))
      return quoted(i) + " is not an interval " + std::string(v->name) + " offers (valid: " +
             v->interval_list() + ")";
  return {};
}

// The venue's own limits bound the keys that default to them (venue_defaults()).
std::string within_venue_limits(const FeedConfig& f, const Config&) {
  const venue::Spec* v = venue::find(f.exchange);
  if (v == nullptr) return {};
  const auto& l = v->limits;
  if (f.max_streams_per_conn > l.max_streams_per_connection)
    return "max_streams_per_conn (" + std::to_string(f.max_streams_per_conn) + ") exceeds " +
           std::string(v->name) + "'s " + std::to_string(l.max_streams_per_connection) +
           " streams per connection";
  return {};
}

std::string control_within_venue(const FeedConfig& f, const Config&) {
  const venue::Spec* v = venue::find(f.exchange);
  if (v == nullptr || f.max_control_msgs_per_s <= v->limits.max_control_msgs_per_s) return {};
  return "max_control_msgs_per_s (" + std::to_string(f.max_control_msgs_per_s) + ") exceeds " +
         std::string(v->name) + "'s limit of " + std::to_string(v->limits.max_control_msgs_per_s) +
         " incoming messages per second";
}

std::string rotate_before_cut(const FeedConfig& f, const Config&) {
  const venue::Spec* v = venue::find(f.exchange);
  if (v == nullptr || v->limits.connection_lifetime_ms == 0 || f.rotate_after_s <= 0) return {};
  const double cut_s = static_cast<double>(v->limits.connection_lifetime_ms) / 1000.0;
  if (f.rotate_after_s <= cut_s - 60) return {};
  return "rotate_after_s (" + format_number(f.rotate_after_s) + ") must be at least a minute short of " +
         std::string(v->name) + "'s " + format_number(cut_s) +
         " s connection lifetime, so the replacement is up before the cut";
}

std::string rule_power_of_two(double v) {
  const auto n = static_cast<std::uint64_t>(v);
  if ((n & (n - 1)) == 0) return {};
  return "must be a power of two, got " + format_number(v);
}

std::string backfill_fits_ring(const FeedConfig& f, const Config& cfg) {
  if (f.backfill_bars < cfg.capacity) return {};
  return "backfill_bars (" + std::to_string(f.backfill_bars) +
         ") must be less than shm.capacity (" + std::to_string(cfg.capacity) +
         "): the ring cannot hold them";
}

std::string pong_after_ping(const FeedConfig& f, const Config&) {
  // lws works in whole seconds and never pings if hangup <= ping; +1 s survives rounding up.
  if (f.pong_timeout_s >= f.ping_interval_s + 1) return {};
  return "pong_timeout_s (" + format_number(f.pong_timeout_s) +
         ") must be at least ping_interval_s + 1 (" + format_number(f.ping_interval_s + 1) +
         "), or the connection is hung up without ever being pinged";
}

std::string backoff_ordered(const FeedConfig& f, const Config&) {
  if (f.reconnect_min_ms <= f.reconnect_max_ms) return {};
  return "reconnect_max_ms (" + std::to_string(f.reconnect_max_ms) +
         ") must not be less than reconnect_min_ms (" + std::to_string(f.reconnect_min_ms) + ")";
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Levenshtein, case-insensitive, so "Capacity" and "capacty" both find "capacity".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}

constexpr double kDay = 86400;  // seconds; any longer timeout is a typo

}  // namespace

std::string where(const Loc& loc) {
  if (!loc.env.empty()) return "$" + loc.env;
  return std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Allow about one edit per three characters, at most three.
  const std::size_t budget = std::min<std::size_t>(3, (word.size() + 2) / 3);
  std::string_view best;
  std::size_t best_d = budget + 1;
  for (auto c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

// Short names so each key stays one readable row.
constexpr Need kReq = Need::Required;
constexpr Need kOpt = Need::Optional;
constexpr Reload kLive = Reload::Live;
constexpr Reload kRestart = Reload::Restart;
constexpr bool kOpen = true;  // Bounds::min_open

// clang-format off
const std::vector<KeyDef<Config>>& top_keys() {
  static const std::vector<KeyDef<Config>> keys = {
    // path              member                   need  reload    bounds         str rule           num rule           env
    {"shm.dir",          &Config::shm_dir,        kOpt, kRestart, {},            rule_absolute_dir, nullptr,           "MDFEED_SHM_DIR"},
    {"shm.capacity",     &Config::capacity,       kOpt, kRestart, {64, 1 << 24}, nullptr,           rule_power_of_two, ""},
    {"shm.heartbeat_ms", &Config::heartbeat_ms,   kOpt, kLive,    {10, 1000},    nullptr,           nullptr,           ""},
    {"log.level",        &Config::log_level,      kOpt, kLive,    {},            rule_log_level,    nullptr,           "MDFEED_LOG_LEVEL"},
    {"metrics.listen",   &Config::metrics_listen, kOpt, kRestart, {},            rule_listen,       nullptr,           ""},
    {"feeds",            &Config::feeds,          kReq, kLive,    {},            nullptr,           nullptr,           ""},
  };
  return keys;
}

const std::vector<KeyDef<FeedConfig>>& feed_keys() {
  using F = FeedConfig;
  static const std::vector<KeyDef<FeedConfig>> keys = {
    // path                    member                      need  reload    bounds            str rule        num rule env
    {"name",                   &F::name,                   kReq, kLive,    {},               rule_feed_name, nullptr, ""},
    {"exchange",               &F::exchange,               kReq, kRestart, {},               rule_exchange,  nullptr, ""},
    // Optional: the venue's production endpoints (venue_defaults()).
    {"ws_url",                 &F::ws_url,                 kOpt, kRestart, {},               rule_wss_url,   nullptr, ""},
    {"rest_url",               &F::rest_url,               kOpt, kRestart, {},               rule_https_url, nullptr, ""},
    {"ca_file",                &F::ca_file,                kOpt, kRestart, {},               rule_ca_file,   nullptr, ""},
    {"symbols",                &F::symbols,                kReq, kLive,    {},               rule_symbol,    nullptr, "MDFEED_SYMBOLS"},
    {"intervals",              &F::intervals,              kReq, kLive,    {},               rule_interval,  nullptr, "MDFEED_INTERVALS"},
    {"backfill_bars",          &F::backfill_bars,          kOpt, kLive,    {0, 1 << 24},     nullptr,        nullptr, ""},
    {"stale_after_s",          &F::stale_after_s,          kOpt, kLive,    {0, kDay, kOpen}, nullptr,        nullptr, ""},
    {"close_grace_s",          &F::close_grace_s,          kOpt, kLive,    {0, kDay},        nullptr,        nullptr, ""},
    // Unwritten, these four take the venue's values (venue_defaults()); written, the venue's
    // limits bound them (feed_rules()).
    {"max_streams_per_conn",   &F::max_streams_per_conn,   kOpt, kRestart, {1, 1024},        nullptr,        nullptr, ""},
    // 0: never rotate (venues without a connection lifetime).
    {"rotate_after_s",         &F::rotate_after_s,         kOpt, kRestart, {0, kDay - 60},   nullptr,        nullptr, ""},
    {"max_message_bytes",      &F::max_message_bytes,      kOpt, kRestart, {1024, 1 << 26},  nullptr,        nullptr, ""},
    {"ping_interval_s",        &F::ping_interval_s,        kOpt, kRestart, {1, 3600},        nullptr,        nullptr, ""},
    {"pong_timeout_s",         &F::pong_timeout_s,         kOpt, kRestart, {2, 3600},        nullptr,        nullptr, ""},
    {"reconnect_min_ms",       &F::reconnect_min_ms,       kOpt, kRestart, {1, 600000},      nullptr,        nullptr, ""},
    {"reconnect_max_ms",       &F::reconnect_max_ms,       kOpt, kRestart, {1, 3600000},     nullptr,        nullptr, ""},
    {"rest_weight_per_min",    &F::rest_weight_per_min,    kOpt, kRestart, {1, 1000000},     nullptr,        nullptr, ""},
    // Binance spot drops a connection sending more than 5 messages/s (pings and pongs included).
    {"max_control_msgs_per_s", &F::max_control_msgs_per_s, kOpt, kRestart, {1, 100},         nullptr,        nullptr, ""},
    {"rest_timeout_s",         &F::rest_timeout_s,         kOpt, kRestart, {0, 300, kOpen},  nullptr,        nullptr, ""},
    {"heartbeat_s",            &F::heartbeat_s,            kOpt, kRestart, {0, 3600},        nullptr,        nullptr, ""},
    {"heartbeat_timeout_s",    &F::heartbeat_timeout_s,    kOpt, kRestart, {0, 3600, kOpen}, nullptr,        nullptr, ""},
  };
  return keys;
}

const std::vector<FeedRule>& feed_rules() {
  static const std::vector<FeedRule> rules = {
    {"backfill_bars",    backfill_fits_ring},
    {"pong_timeout_s",   pong_after_ping},
    {"reconnect_max_ms", backoff_ordered},
    {"intervals",        venue_serves_intervals},
    {"max_streams_per_conn", within_venue_limits},
    {"max_control_msgs_per_s", control_within_venue},
    {"rotate_after_s",   rotate_before_cut},
  };
  return rules;
}
// clang-format on

void venue_defaults(FeedConfig& f, const std::function<bool(std::string_view)>& written) {
  const venue::Spec* v = venue::find(f.exchange);
  if (v == nullptr) return;
  const auto& l = v->limits;
  if (!written("ws_url")) f.ws_url = std::string(v->default_ws_url);
  if (!written("rest_url")) f.rest_url = std::string(v->default_rest_url);
  if (!written("max_streams_per_conn")) f.max_streams_per_conn = l.max_streams_per_connection;
  if (!written("max_control_msgs_per_s")) f.max_control_msgs_per_s = l.default_control_msgs_per_s;
  if (!written("rest_weight_per_min"))
    f.rest_weight_per_min = static_cast<std::uint32_t>(static_cast<std::int64_t>(l.rest_budget) * 60'000 / l.rest_window_ms);
  // An hour ahead of the venue's cut (Binance: 24 h), or never.
  if (!written("rotate_after_s"))
    f.rotate_after_s = l.connection_lifetime_ms > 0 ? static_cast<double>(l.connection_lifetime_ms) / 1000.0 - 3600 : 0;
  if (!written("heartbeat_s")) f.heartbeat_s = static_cast<double>(l.heartbeat_ms) / 1000.0;
  if (!written("heartbeat_timeout_s") && l.heartbeat_ms > 0)
    f.heartbeat_timeout_s = static_cast<double>(l.pong_deadline_ms) / 1000.0;
  // A venue that pushes slowly (Bybit: up to 60 s apart) is not stale after 10 s of quiet.
  if (!written("stale_after_s"))
    f.stale_after_s = std::max(f.stale_after_s, 2.5 * static_cast<double>(l.kline_push_ms) / 1000.0);
}

}  // namespace config_detail
}  // namespace mdfeed
