// Binance-compatible REST handlers over the deterministic market (see rest.hpp).
#include "fake_exchange/rest.hpp"

#include <algorithm>
#include <charconv>
#include <mdfeed/names.hpp>

#include "fake_exchange/control.hpp"
#include "fake_exchange/market.hpp"
#include "fake_exchange/streams.hpp"

namespace mdfeed::fake {
namespace {

HttpResponse illegal_chars(std::string_view param, std::string_view legal) {
  std::string msg = "Illegal characters found in parameter '";
  msg += param;
  msg += "'; legal range is '";
  msg += legal;
  msg += "'.";
  return error_response(400, -1100, msg);
}

HttpResponse missing(std::string_view param) {
  std::string msg = "Mandatory parameter '";
  msg += param;
  msg += "' was not sent, was empty/null, or malformed.";
  return error_response(400, -1102, msg);
}

// A request either yields these or an error response.
struct KlinesParams {
  std::string symbol;
  std::string interval;
  std::optional<std::int64_t> start_ms, end_ms;
  int limit = kKlinesDefaultLimit;
};

std::optional<HttpResponse> read_time_param(const QueryArgs& args, std::string_view name,
                                            std::optional<std::int64_t>& out) {
  const std::string* v = find_arg(args, name);
  if (!v) return std::nullopt;
  out = parse_digits(*v);
  if (!out) return illegal_chars(name, "^[0-9]{1,20}$");
  return std::nullopt;
}

std::optional<HttpResponse> read_klines_params(const QueryArgs& args, const MarketView& market,
                                               int max_limit, KlinesParams& p) {
  const std::string* symbol = find_arg(args, "symbol");
  if (!symbol || symbol->empty()) return missing("symbol");
  if (!valid_symbol(*symbol)) return illegal_chars("symbol", "^[A-Z0-9-_.]{1,20}$");
  if (market.invalid_symbols &&
      std::find(market.invalid_symbols->begin(), market.invalid_symbols->end(), *symbol) !=
          market.invalid_symbols->end())
    return error_response(400, -1121, "Invalid symbol.");
  p.symbol = *symbol;

  const std::string* interval = find_arg(args, "interval");
  if (!interval || interval->empty()) return missing("interval");
  if (!valid_interval(*interval)) return error_response(400, -1120, "Invalid interval.");
  p.interval = *interval;

  if (auto err = read_time_param(args, "startTime", p.start_ms)) return err;
  if (auto err = read_time_param(args, "endTime", p.end_ms)) return err;
  if (p.start_ms && p.end_ms && *p.start_ms > *p.end_ms)
    return error_response(400, -1023, "Start time is greater than end time.");

  if (const std::string* limit = find_arg(args, "limit")) {
    const auto v = parse_digits(*limit);
    if (!v) return illegal_chars("limit", "^[0-9]{1,20}$");
    if (*v < 1) return error_response(400, -1130, "Data sent for parameter 'limit' is not valid.");
    p.limit = static_cast<int>(std::min<std::int64_t>(*v, max_limit));
  }
  return std::nullopt;
}

std::int64_t prev_open(std::string_view interval, std::int64_t open_ms) {
  return bar_open_at(interval, open_ms - 1);
}

}  // namespace

const std::string* find_arg(const QueryArgs& args, std::string_view name) {
  for (const auto& [k, v] : args)
    if (k == name) return &v;
  return nullptr;
}

std::optional<std::int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::vector<std::int64_t> kline_open_times(std::string_view interval,
                                           std::optional<std::int64_t> start_ms,
                                           std::optional<std::int64_t> end_ms, int limit,
                                           const MarketView& market, int max_limit) {
  std::vector<std::int64_t> out;
  if (!valid_interval(interval) || limit < 1) return out;
  limit = std::min(limit, max_limit);

  // First bar that exists: the first to open at or after the history start.
  std::int64_t first = bar_open_at(interval, market.history_start_ms);
  if (first < market.history_start_ms) first = next_open_ms(interval, first);
  // Last bar that may be shown: the one containing sim_now, or the last opening by endTime.
  std::int64_t last = bar_open_at(interval, market.sim_now_ms);
  if (end_ms) last = std::min(last, bar_open_at(interval, *end_ms));

  if (start_ms) {
    std::int64_t t = bar_open_at(interval, *start_ms);
    if (t < *start_ms) t = next_open_ms(interval, t);
    for (t = std::max(t, first); t <= last && static_cast<int>(out.size()) < limit;
         t = next_open_ms(interval, t))
      out.push_back(t);
    return out;
  }
  for (std::int64_t t = last; t >= first && static_cast<int>(out.size()) < limit;
       t = prev_open(interval, t))
    out.push_back(t);
  std::reverse(out.begin(), out.end());
  return out;
}

HttpResponse klines_response(const QueryArgs& args, const MarketView& market, int max_limit) {
  KlinesParams p;
  if (auto err = read_klines_params(args, market, max_limit, p)) return *err;
  const std::vector<std::int64_t> opens =
      kline_open_times(p.interval, p.start_ms, p.end_ms, p.limit, market, max_limit);
  const std::int64_t forming_open = bar_open_at(p.interval, market.sim_now_ms);

  HttpResponse r;
  r.body.reserve(opens.size() * 190 + 2);
  r.body += '[';
  for (std::size_t i = 0; i < opens.size(); ++i) {
    if (i) r.body += ',';
    // The bar containing sim_now is still forming: serve it as it stands, like Binance does.
    const BarUnits bar = opens[i] == forming_open
                             ? forming_units(p.symbol, p.interval, opens[i], market.sim_now_ms)
                             : truth_units(p.symbol, p.interval, opens[i]);
    append_rest_row(r.body, bar);
  }
  r.body += ']';
  r.rows = opens.size();
  return r;
}

HttpResponse time_response(std::int64_t sim_now_ms) {
  HttpResponse r;
  r.body = R"({"serverTime":)" + std::to_string(sim_now_ms) + "}";
  return r;
}

HttpResponse error_response(int status, int code, std::string_view msg) {
  HttpResponse r;
  r.status = status;
  r.body = R"({"code":)" + std::to_string(code) + R"(,"msg":)";
  append_json_string(r.body, msg);
  r.body += '}';
  return r;
}

HttpResponse too_many_requests(std::int64_t retry_after_s, std::int64_t limit) {
  HttpResponse r = error_response(
      429, -1003,
      "Too many requests; current limit of IP(127.0.0.1) request weight is " +
          std::to_string(limit) +
          " per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.");
  r.retry_after_s = retry_after_s;
  return r;
}

HttpResponse banned(std::int64_t retry_after_s, std::int64_t until_ms) {
  HttpResponse r = error_response(418, -1003,
                                  "Way too many requests; IP(127.0.0.1) banned until " +
                                      std::to_string(until_ms) +
                                      ". Please use WebSocket Streams for live updates to avoid "
                                      "bans.");
  r.retry_after_s = retry_after_s;
  return r;
}

WeightWindow::Charge WeightWindow::charge(std::int64_t weight, std::int64_t real_ms) {
  constexpr std::int64_t kWindowMs = 60'000;
  const std::int64_t window = real_ms / kWindowMs;
  if (window != window_) {
    window_ = window;
    used_ = 0;
  }
  used_ += weight;
  Charge c;
  c.used = used_;
  if (limit_ > 0 && used_ > limit_) {
    c.allowed = false;
    const std::int64_t left_ms = (window + 1) * kWindowMs - real_ms;
    c.retry_after_s = std::max<std::int64_t>(1, (left_ms + 999) / 1000);
  }
  return c;
}

}  // namespace mdfeed::fake
