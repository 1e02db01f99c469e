// OKX v5. Sources (OKX API v5 docs, https://www.okx.com/docs-v5/en/):
//  [ws-connect]  #overview-websocket-connect: text "ping" -> "pong"; the connection breaks when
//                no subscription is set up or nothing is pushed for 30 s
//  [ws-sub]      #overview-websocket-subscribe: {"id","op":"subscribe","args":[{channel,instId}]},
//                ack {"id","event":"subscribe","arg":{..},"connId"}, error {"event":"error",
//                "code","msg","connId"}
//  [ws-candle]   #order-book-trading-market-data-ws-candlesticks-channel: on /ws/v5/business,
//                data [[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]], all strings
//  [ws-codes]    #error-code-websocket-public: 60012 Invalid request, 60018 Wrong URL or
//                channel ... doesn't exist
//  [candles]     #order-book-trading-market-data-get-candlesticks: limit max 300 (default 100),
//                only the latest 1440 bars, 40 requests / 2 s per IP, newest first, after = older
//                than ts, before = newer than ts
//  [history]     #order-book-trading-market-data-get-candlesticks-history: limit max 100
//                (default 100), 20 requests / 2 s per IP
//  [rest-codes]  #error-code-rest-public: 50011 Too Many Requests (HTTP 429), 50014 parameter
//                empty, 51000 Parameter error, 51001 Instrument ID does not exist
//  [time]        #public-data-rest-api-get-system-time: {"code":"0","data":[{"ts":".."}]}
//  [bars]        bar values 1m 3m 5m 15m 30m 1H 2H 4H and UTC-aligned 6Hutc 12Hutc 1Dutc 1Wutc
//                1Mutc (6H 12H 1D 1W 1M are Hong Kong time: not served by this fake)
//  [ctval]       #public-data-rest-api-get-instruments: swap ctVal (BTC-USDT-SWAP 0.01 BTC,
//                ETH-USDT-SWAP 0.1 ETH); vol of a swap candle is in contracts, volCcy in base
#include "fake_exchange/venues/okx.hpp"

#include <algorithm>

#include "fake_exchange/control.hpp"

namespace mdfeed::fake {
namespace {

constexpr IntervalName kBars[] = {
    {"1m", "1m"},     {"3m", "3m"},       {"5m", "5m"},       {"15m", "15m"},
    {"30m", "30m"},   {"1H", "1h"},       {"2H", "2h"},       {"4H", "4h"},
    {"6Hutc", "6h"},  {"12Hutc", "12h"},  {"1Dutc", "1d"},    {"1Wutc", "1w"},
    {"1Mutc", "1M"},
};
constexpr std::string_view kCandle = "candle";
constexpr std::string_view kBusiness = "/ws/v5/business";
constexpr std::string_view kPublic = "/ws/v5/public";
constexpr int kCandlesMax = 300, kHistoryMax = 100, kDefaultLimit = 100;
constexpr int kCandlesDepth = 1440;  // [candles] only the latest 1440 bars

bool valid_inst_id(std::string_view s) {
  return !s.empty() && s.size() <= 32 && s.front() != '-' && s.back() != '-' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
         });
}

// A topic name is "<channel>:<instId>".
std::string topic_name(std::string_view channel, std::string_view inst) {
  return std::string(channel) + ":" + std::string(inst);
}

std::string arg_json(std::string_view channel, std::string_view inst) {
  std::string s = R"({"channel":)";
  append_json_string(s, channel);
  s += R"(,"instId":)";
  append_json_string(s, inst);
  s += '}';
  return s;
}

std::string body_error(std::string_view code, std::string_view msg) {
  std::string s = R"({"code":")";
  s += code;
  s += R"(","msg":)";
  append_json_string(s, msg);
  s += R"(,"data":[]})";
  return s;
}

HttpResponse rest_error(int status, std::string_view code, std::string_view msg) {
  HttpResponse r;
  r.status = status;
  r.body = body_error(code, msg);
  return r;
}

class Okx final : public Venue {
 public:
  explicit Okx(const Options& o)
      : invalid_(o.invalid_symbols),
        idle_ms_(o.okx_idle_ms),
        candles_window_(40, 2000),   // [candles] 40 requests / 2 s per IP
        history_window_(20, 2000) {}  // [history] 20 requests / 2 s per IP

  std::string_view name() const override { return "okx"; }

  std::optional<WsHandshake> ws_handshake(std::string_view path,
                                          const QueryArgs&) const override {
    if (path != kBusiness && path != kPublic) return std::nullopt;
    return WsHandshake{};
  }

  WsRules ws_rules() const override {
    WsRules r;
    r.max_streams = 4096;
    r.ctrl_limit_per_s = 0;  // OKX limits (un)subscribes per hour (480), not per second
    r.idle_close_ms = idle_ms_;  // [ws-connect] 30 s without traffic
    r.idle_close_code = 4004;    // [ws-codes] 4004 No data received in 30s
    r.idle_close_reason = "No data received in 30s.";
    return r;
  }

  ParsedStream parse_topic(std::string_view name) const override {
    ParsedStream p;
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos) return p;
    const std::string_view channel = name.substr(0, colon);
    const std::string_view inst = name.substr(colon + 1);
    if (!valid_inst_id(inst)) return p;
    if (channel == "trades") {
      p.valid = true;  // trades are accepted; this fake pushes none
      return p;
    }
    if (channel.substr(0, kCandle.size()) != kCandle) return p;
    const auto interval = okx_interval(channel.substr(kCandle.size()));
    if (!interval) return p;
    p.valid = true;
    p.kline = StreamKey{std::string(inst), std::string(*interval)};
    return p;
  }

  WsAction on_message(const WsConnView& c, std::string_view message, bool,
                      simdjson::dom::parser& parser) override {
    WsAction a;
    const std::string conn_id = conn_id_string(c.id);
    if (message == "ping") {  // [ws-connect]
      a.pong = "pong";
      return a;
    }
    simdjson::dom::element doc;
    std::string_view op;
    simdjson::dom::array args;
    if (parser.parse(message.data(), message.size()).get(doc) ||
        doc["op"].get_string().get(op) || doc["args"].get_array().get(args)) {
      a.replies.push_back(error(c, "60012", "Invalid request: " + std::string(message.substr(0, 200))));
      return a;
    }
    std::string id;
    if (std::string_view v; !doc["id"].get_string().get(v)) id = std::string(v);
    if (op != "subscribe" && op != "unsubscribe") {
      a.replies.push_back(error(c, "60012", "Invalid request: " + std::string(message.substr(0, 200)), id));
      return a;
    }
    const bool sub = op == "subscribe";
    const bool business = c.path == kBusiness;
    for (simdjson::dom::element arg : args) {
      std::string_view channel, inst;
      if (arg["channel"].get_string().get(channel) || arg["instId"].get_string().get(inst)) {
        a.replies.push_back(error(c, "60012", "Invalid request: " + std::string(message.substr(0, 200)), id));
        continue;
      }
      const std::string name = topic_name(channel, inst);
      const ParsedStream p = parse_topic(name);
      // [ws-candle] candles live on /business only; trades on /public.
      const bool right_url = p.kline ? business : !business;
      if (!p.valid || !right_url ||
          std::find(invalid_.begin(), invalid_.end(), inst) != invalid_.end()) {
        a.replies.push_back(error(c, "60018",
                                  "Wrong URL or channel:" + std::string(channel) + ",instId:" +
                                      std::string(inst) +
                                      " doesn't exist. Please use the correct URL, channel and "
                                      "parameters referring to API document.",
                                  id));
        continue;
      }
      const bool known = std::find(c.topics->begin(), c.topics->end(), name) != c.topics->end();
      if (sub && !known &&
          std::find(a.subscribe.begin(), a.subscribe.end(), name) == a.subscribe.end())
        a.subscribe.push_back(name);
      if (!sub && known) a.unsubscribe.push_back(name);
      std::string ack = "{";
      if (!id.empty()) {
        ack += R"("id":)";
        append_json_string(ack, id);
        ack += ',';
      }
      ack += R"("event":)";
      append_json_string(ack, op);
      ack += R"(,"arg":)" + arg_json(channel, inst) + R"(,"connId":")" + conn_id + "\"}";
      a.replies.push_back(std::move(ack));
    }
    a.log = std::string(op) + " id=" + std::to_string(c.id) +
            " streams=" + std::to_string(args.size());
    return a;
  }

  std::string kline_push(std::string_view topic, const StreamKey& key, std::int64_t,
                         const BarUnits& bar, bool closed, bool) const override {
    const std::string_view channel = topic.substr(0, topic.find(':'));
    std::string s = R"({"arg":)" + arg_json(channel, key.symbol) + R"(,"data":[)";
    append_okx_candle(s, key.symbol, bar, closed);
    s += "]}";
    return s;
  }

  std::optional<HttpResponse> rest(std::string_view path, const QueryArgs& args,
                                   RestEnv& env) override {
    if (path == "/api/v5/public/time") {
      HttpResponse r;
      r.body = R"({"code":"0","msg":"","data":[{"ts":")" + std::to_string(env.market.sim_now_ms) +
               "\"}]}";
      return r;
    }
    if (path == "/api/v5/market/candles") return candles(args, env, false);
    if (path == "/api/v5/market/history-candles") return candles(args, env, true);
    return std::nullopt;
  }

 private:
  std::string error(const WsConnView& c, std::string_view code, const std::string& msg,
                    const std::string& id = {}) const {
    std::string s = "{";
    if (!id.empty()) {
      s += R"("id":)";
      append_json_string(s, id);
      s += ',';
    }
    s += R"("event":"error","code":")";
    s += code;
    s += R"(","msg":)";
    append_json_string(s, msg);
    s += R"(,"connId":")" + conn_id_string(c.id) + "\"}";
    return s;
  }

  HttpResponse candles(const QueryArgs& args, RestEnv& env, bool history) {
    std::int64_t retry_ms = 0;
    RequestWindow& window = history ? history_window_ : candles_window_;
    const bool limited = !window.allow(env.real_ms, retry_ms);
    // Injected rest-429/rest-418 and the real limit get OKX's one answer: [rest-codes].
    if (env.fault() != RestFault::kNone || limited) {
      HttpResponse r = rest_error(429, "50011", "Too Many Requests");
      r.rate_limited = limited;
      return r;
    }
    const std::string* inst = find_arg(args, "instId");
    if (!inst || inst->empty()) return rest_error(400, "50014", "Parameter instId can not be empty");
    const std::string* bar_arg = find_arg(args, "bar");
    const auto interval = okx_interval(bar_arg ? std::string_view(*bar_arg) : "1m");
    if (!interval) return rest_error(400, "51000", "Parameter bar error");
    std::optional<std::int64_t> after, before;
    for (auto [name, out] : {std::pair{"after", &after}, std::pair{"before", &before}}) {
      if (const std::string* v = find_arg(args, name)) {
        *out = parse_digits(*v);
        if (!*out) return rest_error(400, "51000", std::string("Parameter ") + name + " error");
      }
    }
    int limit = kDefaultLimit;
    if (const std::string* v = find_arg(args, "limit")) {
      const auto l = parse_digits(*v);
      if (!l || *l < 1) return rest_error(400, "51000", "Parameter limit error");
      limit = static_cast<int>(std::min<std::int64_t>(*l, history ? kHistoryMax : kCandlesMax));
    }
    if (!valid_inst_id(*inst) || !symbol_listed(env.market, *inst))
      return rest_error(400, "51001", "Instrument ID does not exist");

    // after = older than ts, before = newer than ts (both exclusive), newest first.
    std::optional<std::int64_t> from = before ? std::optional(*before + 1) : std::nullopt;
    std::optional<std::int64_t> to = after ? std::optional(*after - 1) : std::nullopt;
    if (!history) {  // [candles] the latest 1440 bars only
      std::int64_t oldest = bar_open_at(*interval, env.market.sim_now_ms);
      for (int i = 1; i < kCandlesDepth; ++i) oldest = bar_open_at(*interval, oldest - 1);
      from = std::max(from.value_or(oldest), oldest);
    }
    const std::vector<std::int64_t> opens =
        open_times_desc(*interval, from, to, limit, true, env.market);
    HttpResponse r;
    r.body = R"({"code":"0","msg":"","data":[)";
    for (std::size_t i = 0; i < opens.size(); ++i) {
      if (i) r.body += ',';
      append_okx_candle(r.body, *inst, rest_bar(*inst, *interval, opens[i], env.market),
                        !bar_is_forming(*interval, opens[i], env.market));
    }
    r.body += "]}";
    r.rows = opens.size();
    return r;
  }

  std::vector<std::string> invalid_;
  std::int64_t idle_ms_;
  RequestWindow candles_window_;
  RequestWindow history_window_;
};

}  // namespace

std::unique_ptr<Venue> make_okx(const Options& o) { return std::make_unique<Okx>(o); }

std::optional<std::string_view> okx_interval(std::string_view bar) {
  return to_canonical(kBars, std::size(kBars), bar);
}

void append_okx_candle(std::string& out, std::string_view inst_id, const BarUnits& bar,
                       bool confirmed) {
  out += "[\"";
  append_int(out, bar.open_time_ms);
  out += "\",";
  for (std::int64_t v : {bar.open, bar.high, bar.low, bar.close}) {
    append_quoted_units(out, v);
    out += ',';
  }
  if (const std::int64_t ct = contract_value_units(inst_id); ct > 0) {
    // [ctval] swap: vol in contracts (a whole number: the truth trades whole contracts),
    // volCcy in base, volCcyQuote in quote.
    out += '"';
    append_int(out, bar.volume / ct);
    out += "\",";
    append_quoted_units(out, bar.volume);
  } else {
    // spot: vol in base, volCcy in quote.
    append_quoted_units(out, bar.volume);
    out += ',';
    append_quoted_units(out, bar.quote_volume);
  }
  out += ',';
  append_quoted_units(out, bar.quote_volume);
  out += confirmed ? R"(,"1"])" : R"(,"0"])";
}

}  // namespace mdfeed::fake
