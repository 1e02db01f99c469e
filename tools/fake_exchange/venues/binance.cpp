// Binance spot and USD-M futures. Spot is the original protocol of the fake (control.hpp,
// rest.hpp, wire.hpp hold its pieces); USD-M is the same protocol with its own paths and limits.
//
// Sources:
//  spot  https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
//        https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
//  USD-M https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
//        https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Kline-Candlestick-Data
#include "fake_exchange/venues/binance.hpp"

#include <algorithm>

#include "fake_exchange/control.hpp"
#include "fake_exchange/wire.hpp"

namespace mdfeed::fake {
namespace {

struct BinanceConfig {
  std::string_view name;
  std::string_view ws_prefix;    // "" (spot) or "/market" (USD-M routed URLs, since 2026-04)
  std::string_view rest_prefix;  // "/api/v3" or "/fapi/v1"
  bool usdm = false;
  bool owns_legacy = true;     // serves /stream and /ws (spot), or answers them silently (USD-M)
  bool legacy_silent = false;  // USD-M with --usdm-legacy-paths
  int max_limit = kKlinesMaxLimit;
  std::int64_t weight_limit = 6000;
  WsRules rules;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

class Binance final : public Venue {
 public:
  explicit Binance(BinanceConfig cfg) : cfg_(cfg), weights_(cfg.weight_limit) {}

  std::string_view name() const override { return cfg_.name; }
  WsRules ws_rules() const override { return cfg_.rules; }
  ParsedStream parse_topic(std::string_view name) const override { return parse_stream_name(name); }

  // Combined streams /stream?streams=a/b, raw /ws (SUBSCRIBE later) and /ws/a/b. USD-M serves
  // them under /market; its unrouted URLs connect and then send nothing (Binance's 2026-04 split
  // of fstream into /public, /market and /private), modelled with --usdm-legacy-paths because
  // spot owns /stream and /ws on this shared port.
  std::optional<WsHandshake> ws_handshake(std::string_view path,
                                          const QueryArgs& args) const override {
    std::string_view rest = path;
    if (!cfg_.ws_prefix.empty()) {
      if (starts_with(path, cfg_.ws_prefix)) {
        rest = path.substr(cfg_.ws_prefix.size());
      } else if (cfg_.legacy_silent && is_stream_path(path)) {
        WsHandshake h;
        h.silent = true;
        return h;
      } else {
        return std::nullopt;
      }
    } else if (!cfg_.owns_legacy) {
      return std::nullopt;
    }
    if (!is_stream_path(rest)) return std::nullopt;
    WsHandshake h;
    std::string_view list;
    if (rest == "/stream" || rest == "/stream/") {
      if (const std::string* s = find_arg(args, "streams")) list = *s;
    } else {
      h.combined = false;
      if (rest.size() > 4) list = rest.substr(4);
    }
    const auto max = static_cast<std::size_t>(cfg_.rules.max_streams);
    const std::vector<std::string_view> names = split_list(list, '/', max);
    if (names.size() > max) {
      h.reject = "too-many-streams";
      return h;
    }
    for (std::string_view n : names) {
      // A raw /ws/<name> that is no stream name still connects and carries nothing: CCXT
      // opens wss://stream.binance.com:9443/ws/0 and subscribes later (found by the CCXT
      // fidelity check, tests/fidelity). Combined lists stay strict.
      if (!h.combined && !parse_stream_name(n).valid) continue;
      if (!parse_stream_name(n).valid) {
        h.reject = "invalid-stream";
        return h;
      }
      if (std::find(h.streams.begin(), h.streams.end(), n) == h.streams.end())
        h.streams.emplace_back(n);
    }
    return h;
  }

  WsAction on_message(const WsConnView& c, std::string_view message, bool binary,
                      simdjson::dom::parser& parser) override {
    WsAction a;
    if (binary) {
      a.replies.push_back(error_reply(3, "Invalid JSON: binary frames are not supported", "null"));
      return a;
    }
    ControlParse p = parse_control(parser, message);
    if (!p.request) {
      a.replies.push_back(std::move(p.error_reply));
      return a;
    }
    const ControlRequest& r = *p.request;
    const std::vector<std::string>& topics = *c.topics;
    switch (r.method) {
      case ControlMethod::kSubscribe:
        subscribe(topics, r, a);
        a.log = "subscribe id=" + std::to_string(c.id) + " streams=" +
                std::to_string(r.params.size()) +
                " total=" + std::to_string(topics.size() + a.subscribe.size());
        break;
      case ControlMethod::kUnsubscribe: {
        std::size_t left = topics.size();
        for (const std::string& n : r.params)
          if (std::find(topics.begin(), topics.end(), n) != topics.end()) {
            a.unsubscribe.push_back(n);
            --left;
          }
        a.replies.push_back(result_reply("null", r.id_json));
        a.log = "unsubscribe id=" + std::to_string(c.id) +
                " streams=" + std::to_string(r.params.size()) + " total=" + std::to_string(left);
        break;
      }
      case ControlMethod::kListSubscriptions:
        a.replies.push_back(list_reply(topics, r.id_json));
        break;
      case ControlMethod::kSetProperty:
        a.set_combined = r.bool_value.value_or(c.combined);
        a.replies.push_back(result_reply("null", r.id_json));
        break;
      case ControlMethod::kGetProperty:
        a.replies.push_back(result_reply(c.combined ? "true" : "false", r.id_json));
        break;
    }
    return a;
  }

  std::string kline_push(std::string_view, const StreamKey& key, std::int64_t event_ms,
                         const BarUnits& bar, bool closed, bool combined) const override {
    return combined ? kline_message(key.symbol, key.interval, event_ms, bar, closed)
                    : kline_event(key.symbol, key.interval, event_ms, bar, closed);
  }

  // serverShutdown is a spot event ("Reconnect now"); USD-M documents none.
  std::optional<std::string> shutdown_event(std::int64_t event_ms, bool combined) const override {
    if (cfg_.usdm) return std::nullopt;
    return fake::shutdown_event(event_ms, combined);
  }

  std::optional<HttpResponse> rest(std::string_view path, const QueryArgs& args,
                                   RestEnv& env) override {
    if (!starts_with(path, cfg_.rest_prefix)) return std::nullopt;
    const std::string_view tail = path.substr(cfg_.rest_prefix.size());
    if (tail == "/klines") return klines(args, env);
    if (tail == "/time" || tail == "/ping") {
      HttpResponse refusal;
      if (!charge(kLightWeight, env, refusal)) return refusal;
      if (tail == "/ping") {
        HttpResponse r;
        r.body = "{}";
        r.used_weight = used_;
        return r;
      }
      HttpResponse r = time_response(env.market.sim_now_ms);
      r.used_weight = used_;
      return r;
    }
    return std::nullopt;
  }

 private:
  static bool is_stream_path(std::string_view p) {
    return p == "/stream" || p == "/stream/" || p == "/ws" || starts_with(p, "/ws/");
  }

  void subscribe(const std::vector<std::string>& topics, const ControlRequest& r,
                 WsAction& a) const {
    std::vector<std::string> fresh;
    for (const std::string& n : r.params) {
      if (!parse_stream_name(n).valid) {
        a.replies.push_back(
            error_reply(2, "Invalid request: invalid stream name '" + n + "'", r.id_json));
        return;
      }
      if (std::find(topics.begin(), topics.end(), n) == topics.end() &&
          std::find(fresh.begin(), fresh.end(), n) == fresh.end())
        fresh.push_back(n);
    }
    if (topics.size() + fresh.size() > static_cast<std::size_t>(cfg_.rules.max_streams)) {
      a.replies.push_back(error_reply(2, "Invalid request: too many streams", r.id_json));
      return;
    }
    a.subscribe = std::move(fresh);
    a.replies.push_back(result_reply("null", r.id_json));
  }

  bool charge(std::int64_t weight, const RestEnv& env, HttpResponse& refusal) {
    const WeightWindow::Charge c = weights_.charge(weight, env.real_ms);
    used_ = c.used;
    if (c.allowed) return true;
    refusal = too_many_requests(c.retry_after_s, weights_.limit());
    refusal.used_weight = c.used;
    refusal.rate_limited = true;
    return false;
  }

  HttpResponse klines(const QueryArgs& args, RestEnv& env) {
    switch (env.fault()) {
      case RestFault::kBan:
        return banned(env.fault_retry_s, env.market.sim_now_ms + env.fault_retry_s * 1000);
      case RestFault::kRateLimit:
        return too_many_requests(env.fault_retry_s, weights_.limit());
      case RestFault::kNone:
        break;
    }
    std::int64_t weight = kKlinesWeight;
    if (cfg_.usdm) {
      const std::string* l = find_arg(args, "limit");
      const auto limit = l ? parse_digits(*l) : std::optional<std::int64_t>(kKlinesDefaultLimit);
      weight = usdm_klines_weight(limit.value_or(kKlinesDefaultLimit));
    }
    HttpResponse refusal;
    if (!charge(weight, env, refusal)) return refusal;
    HttpResponse r = klines_response(args, env.market, cfg_.max_limit);
    r.used_weight = used_;
    return r;
  }

  BinanceConfig cfg_;
  WeightWindow weights_;
  std::int64_t used_ = 0;
};

}  // namespace

std::int64_t usdm_klines_weight(std::int64_t limit) noexcept {
  // USD-M "Kline/Candlestick Data": weight by LIMIT [1,100) 1, [100,500) 2, [500,1000] 5,
  // > 1000 10 (see the file header).
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

std::unique_ptr<Venue> make_binance_spot(const Options& o) {
  BinanceConfig c;
  c.name = "binance";
  c.rest_prefix = "/api/v3";
  c.owns_legacy = !o.usdm_legacy_paths;
  c.max_limit = kKlinesMaxLimit;  // spot klines: limit max 1000
  c.weight_limit = o.rest_weight_limit;
  c.rules.max_streams = o.max_streams;       // spot: 1024 streams per connection
  c.rules.ctrl_limit_per_s = o.ctrl_limit_per_s;  // spot: 5 incoming messages per second
  c.rules.kline_probe = true;
  return std::make_unique<Binance>(c);
}

std::unique_ptr<Venue> make_binance_usdm(const Options& o) {
  BinanceConfig c;
  c.name = "binance-usdm";
  c.ws_prefix = "/market";
  c.rest_prefix = "/fapi/v1";
  c.usdm = true;
  c.legacy_silent = o.usdm_legacy_paths;
  c.max_limit = 1500;  // USD-M klines: limit default 500, max 1500
  c.weight_limit = o.usdm_weight_limit;  // USD-M REQUEST_WEIGHT 2400 per minute
  // USD-M WebSocket Market Streams: 10 incoming messages per second; 1024 streams per
  // connection in the docs, 200 observed on mirrors, so 200 by default.
  c.rules.max_streams = o.usdm_max_streams;
  c.rules.ctrl_limit_per_s = o.usdm_ctrl_limit_per_s;
  return std::make_unique<Binance>(c);
}

}  // namespace mdfeed::fake
