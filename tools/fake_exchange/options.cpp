// Table-driven command-line parsing for mdfeed-fake-exchange.
#include "fake_exchange/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "fake_exchange/commands.hpp"
#include "fake_exchange/streams.hpp"

namespace mdfeed::fake {
namespace {

[[noreturn]] void bad(std::string_view opt, std::string_view value, std::string_view why) {
  throw std::invalid_argument(std::string(opt) + " '" + std::string(value) +
                              "': " + std::string(why));
}

std::int64_t to_int(std::string_view opt, std::string_view v, std::int64_t lo, std::int64_t hi) {
  std::int64_t out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) bad(opt, v, "not an integer");
  if (out < lo || out > hi)
    bad(opt, v, "out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  return out;
}

double to_double(std::string_view opt, std::string_view v, double lo, double hi) {
  double out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || !std::isfinite(out))
    bad(opt, v, "not a number");
  if (out < lo || out > hi) bad(opt, v, "out of range");
  return out;
}

std::string tls_version(std::string_view opt, std::string_view v) {
  if (tls_version_index(std::string(v)) < 0) bad(opt, v, "expected 1.0, 1.1, 1.2 or 1.3");
  return std::string(v);
}

std::vector<std::string> symbol_list(std::string_view opt, std::string_view v) {
  std::vector<std::string> out;
  for (std::string_view s : split_list(v, ',', 10'000)) {
    const bool ok = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok) bad(opt, s, "symbols are [A-Z0-9-]{1,32} (BTCUSDT, BTC-USDT-SWAP)");
    out.emplace_back(s);
  }
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> venue_periods(std::string_view opt,
                                                                std::string_view v) {
  static constexpr std::string_view kVenues[] = {"binance", "binance-usdm", "okx", "bybit"};
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (std::string_view item : split_list(v, ',', 16)) {
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) bad(opt, item, "expected VENUE=MS");
    const std::string_view name = item.substr(0, eq);
    if (std::find(std::begin(kVenues), std::end(kVenues), name) == std::end(kVenues))
      bad(opt, name, "unknown venue (binance, binance-usdm, okx, bybit)");
    out.emplace_back(name, to_int(opt, item.substr(eq + 1), 1, 3'600'000));
  }
  return out;
}

struct OptionSpec {
  const char* name;
  const char* arg;  // nullptr: a flag
  const char* help;
  std::function<void(Options&, std::string_view name, std::string_view value)> apply;
};

constexpr std::int64_t kMaxEpochMs = 32'503'680'000'000;  // year 3000

const std::vector<OptionSpec>& specs() {
  static const std::vector<OptionSpec> table = {
      {"--cert", "FILE", "server certificate chain (PEM), required",
       [](Options& o, auto, auto v) { o.cert_file = v; }},
      {"--key", "FILE", "server private key (PEM), required",
       [](Options& o, auto, auto v) { o.key_file = v; }},
      {"--ca", "FILE", "CA the certificate should chain to; the verdict is printed (cert-check)",
       [](Options& o, auto, auto v) { o.ca_file = v; }},
      {"--port", "N", "listen port on 127.0.0.1; 0 = ephemeral (default)",
       [](Options& o, auto n, auto v) { o.port = static_cast<int>(to_int(n, v, 0, 65535)); }},
      {"--ready-file", "PATH", "after listening, atomically write 'port=N' here",
       [](Options& o, auto, auto v) { o.ready_file = v; }},
      {"--tls-min", "VER", "lowest TLS version offered: 1.0..1.3 (default 1.2)",
       [](Options& o, auto n, auto v) { o.tls_min = tls_version(n, v); }},
      {"--tls-max", "VER", "highest TLS version offered: 1.0..1.3 (default 1.3)",
       [](Options& o, auto n, auto v) { o.tls_max = tls_version(n, v); }},
      {"--tls10-only", nullptr, "speak TLS 1.0 only (server-side SECLEVEL 0; clients must refuse)",
       [](Options& o, auto, auto) { o.tls_min = o.tls_max = "1.0"; }},
      {"--alpn", "LIST",
       "ALPN protocols, comma separated (default http/1.1; 'h2,http/1.1' adds h2)",
       [](Options& o, auto, auto v) { o.alpn = v; }},
      {"--start-ms", "MS", "simulated epoch ms at start (default 1699920000000)",
       [](Options& o, auto n, auto v) {
         o.start_ms = to_int(n, v, 0, kMaxEpochMs);
         o.start_ms_set = true;
       }},
      {"--speed", "X", "simulated ms per real ms (default 1; 60 = a 1m bar per second)",
       [](Options& o, auto n, auto v) { o.speed = to_double(n, v, 1e-3, 1e7); }},
      {"--update-ms", "N", "real ms between kline updates per stream (default max(1, 2000/speed))",
       [](Options& o, auto n, auto v) { o.update_ms = to_int(n, v, 1, 3'600'000); }},
      {"--venue-update-ms", "V=N,..",
       "per-venue update period overriding --update-ms; venues: binance, binance-usdm, okx,\n"
       "                           bybit (e.g. binance-usdm=250,okx=1000,bybit=1000)",
       [](Options& o, auto n, auto v) { o.venue_update_ms = venue_periods(n, v); }},
      {"--history-start-ms", "MS", "first bar served over REST (default start-ms - 30 days)",
       [](Options& o, auto n, auto v) {
         o.history_start_ms = to_int(n, v, 0, kMaxEpochMs);
         o.history_start_set = true;
       }},
      {"--invalid-symbols", "A,B", "symbols that do not exist (no WS data, REST -1121)",
       [](Options& o, auto n, auto v) { o.invalid_symbols = symbol_list(n, v); }},
      {"--rest-weight-limit", "N", "request weight per minute before 429 (default 6000; 0 = none)",
       [](Options& o, auto n, auto v) { o.rest_weight_limit = to_int(n, v, 0, 1'000'000'000); }},
      {"--ctrl-limit", "N",
       "incoming WS messages per second before disconnect (default 5; 0 = none)",
       [](Options& o, auto n, auto v) {
         o.ctrl_limit_per_s = static_cast<int>(to_int(n, v, 0, 100'000));
       }},
      {"--ping-secs", "N",
       "ping idle connections after N s, hang up after 3N (default 20; 0 = never)",
       [](Options& o, auto n, auto v) { o.ping_secs = static_cast<int>(to_int(n, v, 0, 3600)); }},
      {"--max-streams", "N", "streams per connection (default 1024)",
       [](Options& o, auto n, auto v) {
         o.max_streams = static_cast<int>(to_int(n, v, 1, 100'000));
       }},
      {"--max-message-bytes", "N",
       "largest client message accepted, else close 1009 (default 65536)",
       [](Options& o, auto n, auto v) { o.max_message_bytes = to_int(n, v, 64, 16 << 20); }},
      {"--usdm-weight-limit", "N", "USD-M /fapi request weight per minute (default 2400; 0 = none)",
       [](Options& o, auto n, auto v) { o.usdm_weight_limit = to_int(n, v, 0, 1'000'000'000); }},
      {"--usdm-max-streams", "N", "streams per USD-M connection (default 200)",
       [](Options& o, auto n, auto v) {
         o.usdm_max_streams = static_cast<int>(to_int(n, v, 1, 100'000));
       }},
      {"--usdm-ctrl-limit", "N", "incoming USD-M WS messages per second (default 10; 0 = none)",
       [](Options& o, auto n, auto v) {
         o.usdm_ctrl_limit_per_s = static_cast<int>(to_int(n, v, 0, 100'000));
       }},
      {"--usdm-legacy-paths", nullptr,
       "/stream and /ws act as USD-M's unrouted URLs (connect, never send) instead of spot",
       [](Options& o, auto, auto) { o.usdm_legacy_paths = true; }},
      {"--okx-idle-s", "S", "OKX closes a connection with no traffic for S s (default 30)",
       [](Options& o, auto n, auto v) {
         o.okx_idle_ms = static_cast<std::int64_t>(to_double(n, v, 0.05, 86'400) * 1000);
       }},
      {"--bybit-idle-s", "S", "Bybit closes a connection with no traffic for S s (default 600)",
       [](Options& o, auto n, auto v) {
         o.bybit_idle_ms = static_cast<std::int64_t>(to_double(n, v, 0.05, 86'400) * 1000);
       }},
      {"--bybit-rest-limit", "N", "Bybit requests per 5 s before the 403 ban (default 600)",
       [](Options& o, auto n, auto v) { o.bybit_rest_limit = to_int(n, v, 1, 1'000'000); }},
      {"--bybit-ban-s", "S", "length of Bybit's 403 IP ban (default 600)",
       [](Options& o, auto n, auto v) {
         o.bybit_ban_ms = static_cast<std::int64_t>(to_double(n, v, 0.05, 86'400) * 1000);
       }},
      {"--flood", nullptr,
       "send kline updates whenever writeable; k.L carries a per-connection sequence",
       [](Options& o, auto, auto) { o.flood = true; }},
      {"--latency-probe", nullptr,
       "forming klines carry n=c=h=sequence and v=q=CLOCK_MONOTONIC send ns (bench/e2e)",
       [](Options& o, auto, auto) { o.latency_probe = true; }},
      {"--replay", "FILE",
       "replay a capture (fixtures format) to every client as-is, looping\n"
       "                           (--start-ms then defaults to the capture's start)",
       [](Options& o, auto, auto v) { o.replay_file = v; }},
      {"--replay-speed", "X", "replay pace factor (default 1)",
       [](Options& o, auto n, auto v) { o.replay_speed = to_double(n, v, 1e-3, 1e6); }},
      {"--fault", "CMD", "apply a fault command at start (repeatable; same syntax as stdin)",
       [](Options& o, auto n, auto v) {
         const CommandParse c = parse_command(v);
         if (!c.command) bad(n, v, c.error);
         o.faults.emplace_back(v);
       }},
      {"--exit-on-stdin-eof", nullptr,
       "exit cleanly when stdin closes (no orphans if the test dies)",
       [](Options& o, auto, auto) { o.exit_on_stdin_eof = true; }},
      {"--dump-truth", "SYM,IVL,FROM_MS,N",
       "print N truth bars of SYM (canonical interval) from FROM_MS as JSON lines and exit",
       [](Options& o, auto, auto v) { o.dump_truth = v; }},
      {"--verbose", nullptr, "libwebsockets notices on stderr",
       [](Options& o, auto, auto) { o.verbose = true; }},
  };
  return table;
}

void finalize(Options& o) {
  if (!o.dump_truth.empty()) return;  // no server
  if (o.cert_file.empty() || o.key_file.empty())
    throw std::invalid_argument("--cert and --key are required");
  if (tls_version_index(o.tls_min) > tls_version_index(o.tls_max))
    throw std::invalid_argument("--tls-min is above --tls-max");
  if (o.update_ms == 0)
    o.update_ms = std::max<std::int64_t>(1, static_cast<std::int64_t>(2000.0 / o.speed));
  if (!o.history_start_set)
    o.history_start_ms = std::max<std::int64_t>(0, o.start_ms - kDefaultHistoryMs);
}

}  // namespace

std::int64_t update_ms_for(const Options& o, std::string_view venue) noexcept {
  std::int64_t ms = o.update_ms;
  for (const auto& [name, v] : o.venue_update_ms)
    if (name == venue) ms = v;  // the last one given wins
  return ms;
}

std::int64_t shortest_update_ms(const Options& o) noexcept {
  std::int64_t ms = o.update_ms;
  for (const auto& p : o.venue_update_ms) ms = std::min(ms, p.second);
  return ms;
}

int tls_version_index(const std::string& v) noexcept {
  if (v == "1.0") return 0;
  if (v == "1.1") return 1;
  if (v == "1.2") return 2;
  if (v == "1.3") return 3;
  return -1;
}

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult r;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      r.help = true;
      return r;
    }
    std::string_view value;
    bool inline_value = false;
    if (const auto eq = a.find('='); eq != std::string_view::npos && a.substr(0, 2) == "--") {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inline_value = true;
    }
    const auto& table = specs();
    const auto spec =
        std::find_if(table.begin(), table.end(), [&](const OptionSpec& s) { return a == s.name; });
    if (spec == table.end()) throw std::invalid_argument("unknown option '" + std::string(a) + "'");
    if (spec->arg && !inline_value) {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs " + spec->arg);
      value = argv[++i];
    } else if (!spec->arg && inline_value) {
      throw std::invalid_argument(std::string(a) + " takes no value");
    }
    spec->apply(r.options, a, value);
  }
  finalize(r.options);
  return r;
}

std::string usage() {
  std::string s =
      "usage: mdfeed-fake-exchange --cert FILE --key FILE [options]\n"
      "A fake exchange over TLS on 127.0.0.1 serving Binance spot, Binance USD-M, OKX, Bybit\n"
      "spot and Bybit linear on one port, routed by path (WebSocket klines and REST klines\n"
      "and time), over one deterministic market, with fault injection (commands on stdin, one\n"
      "per line; see --fault).\n"
      "  binance       WS /stream?streams=, /ws[/..]   REST /api/v3/klines, /api/v3/time\n"
      "  binance-usdm  WS /market/stream?streams=, /market/ws[/..]\n"
      "                REST /fapi/v1/klines, /fapi/v1/time\n"
      "  okx           WS /ws/v5/business, /ws/v5/public\n"
      "                REST /api/v5/market/candles, /api/v5/market/history-candles,\n"
      "                     /api/v5/public/time\n"
      "  bybit         WS /v5/public/spot, /v5/public/linear\n"
      "                REST /v5/market/kline?category=spot|linear, /v5/market/time\n\noptions:\n";
  for (const OptionSpec& o : specs()) {
    std::string left = std::string("  ") + o.name + (o.arg ? std::string(" ") + o.arg : "");
    if (left.size() < 26) left.resize(26, ' ');
    s += left + " " + o.help + "\n";
  }
  s +=
      "\nstdin commands: drop | stall S | deaf S | garbage N | oversize BYTES | fragment on|off |\n"
      "  skip-close SYMBOL INTERVAL N | rest-429 N [RETRY_S] | rest-418 N RETRY_S |\n"
      "  shutdown-event [CLOSE_AFTER_S] | max-conn-age S | outage S | pause-clock |\n"
      "  resume-clock | ignore-pings S | stats\n";
  return s;
}

}  // namespace mdfeed::fake
