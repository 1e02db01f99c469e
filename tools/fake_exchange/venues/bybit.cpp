// Bybit v5 public spot and linear. Sources (https://bybit-exchange.github.io/docs/v5/...):
//  [connect]   ws/connect: wss://stream.bybit.com/v5/public/{spot,linear}; subscribe
//              {"req_id","op":"subscribe","args":[..]}, ack {"success","ret_msg","conn_id",
//              "req_id","op"} (spot ret_msg "subscribe", linear ""); spot takes at most 10 args
//              per request; args of one connection total at most 21,000 characters; client
//              {"op":"ping"} -> {"success":true,"ret_msg":"pong","conn_id","req_id","op":"ping"};
//              with no ping-pong and no data for 10 minutes the connection is cut
//  [ws-kline]  websocket/public/kline: topic kline.{interval}.{symbol}, type "snapshot",
//              data [{start,end,interval,open,close,high,low,volume,turnover,confirm,timestamp}]
//  [kline]     market/kline: category spot|linear (default linear), limit [1,1000] default 200,
//              list [startTime,open,high,low,close,volume,turnover] sorted in reverse by time
//  [time]      market/time: result {timeSecond,timeNano}
//  [limits]    rate-limit: 600 requests per 5 s per IP, beyond HTTP 403 "access too frequent"
//              and an IP ban of at least 10 minutes; retCode 10006 "Too many visits!" with
//              X-Bapi-Limit-Reset-Timestamp (ms)
//  [errors]    error: retCode 10001 parameter error (unknown symbol, bad interval)
//  intervals   1 3 5 15 30 60 120 240 360 720 D W M
#include "fake_exchange/venues/bybit.hpp"

#include <algorithm>

#include "fake_exchange/control.hpp"

namespace mdfeed::fake {
namespace {

constexpr IntervalName kIntervals[] = {
    {"1", "1m"},    {"3", "3m"},    {"5", "5m"},    {"15", "15m"},  {"30", "30m"},
    {"60", "1h"},   {"120", "2h"},  {"240", "4h"},  {"360", "6h"},  {"720", "12h"},
    {"D", "1d"},    {"W", "1w"},    {"M", "1M"},
};
constexpr std::string_view kSpotPath = "/v5/public/spot";
constexpr std::string_view kLinearPath = "/v5/public/linear";
constexpr std::size_t kSpotMaxArgs = 10;         // [connect]
constexpr std::size_t kMaxTopicChars = 21'000;   // [connect]
constexpr int kDefaultLimit = 200, kMaxLimit = 1000;  // [kline]

std::string_view venue_interval(std::string_view canonical) {
  for (const IntervalName& i : kIntervals)
    if (i.canonical == canonical) return i.venue;
  return {};
}

class Bybit final : public Venue {
 public:
  explicit Bybit(const Options& o)
      : invalid_(o.invalid_symbols),
        idle_ms_(o.bybit_idle_ms),
        ban_ms_(o.bybit_ban_ms),
        window_(o.bybit_rest_limit, 5000) {}  // [limits] 600 requests / 5 s

  std::string_view name() const override { return "bybit"; }

  std::optional<WsHandshake> ws_handshake(std::string_view path,
                                          const QueryArgs&) const override {
    if (path != kSpotPath && path != kLinearPath) return std::nullopt;
    return WsHandshake{};
  }

  WsRules ws_rules() const override {
    WsRules r;
    r.max_streams = 4096;
    r.idle_close_ms = idle_ms_;  // [connect] 10 minutes without ping-pong or data
    return r;
  }

  ParsedStream parse_topic(std::string_view name) const override {
    ParsedStream p;
    constexpr std::string_view kKline = "kline.", kTrade = "publicTrade.";
    if (name.substr(0, kTrade.size()) == kTrade) {
      p.valid = valid_symbol(name.substr(kTrade.size()));  // accepted, no data pushed here
      return p;
    }
    if (name.substr(0, kKline.size()) != kKline) return p;
    const std::string_view rest = name.substr(kKline.size());
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return p;
    const auto interval = bybit_interval(rest.substr(0, dot));
    const std::string_view symbol = rest.substr(dot + 1);
    if (!interval || !valid_symbol(symbol)) return p;
    p.valid = true;
    p.kline = StreamKey{std::string(symbol), std::string(*interval)};
    return p;
  }

  WsAction on_message(const WsConnView& c, std::string_view message, bool,
                      simdjson::dom::parser& parser) override {
    WsAction a;
    simdjson::dom::element doc;
    std::string_view op;
    std::string req_id;
    if (parser.parse(message.data(), message.size()).get(doc) ||
        doc["op"].get_string().get(op)) {
      a.replies.push_back(reply(c, false, "error:request not valid", "", std::string_view{}));
      return a;
    }
    if (std::string_view v; !doc["req_id"].get_string().get(v)) req_id = std::string(v);
    if (op == "ping") {  // [connect]
      a.pong = reply(c, true, "pong", req_id, "ping");
      return a;
    }
    simdjson::dom::array args;
    if ((op != "subscribe" && op != "unsubscribe") || doc["args"].get_array().get(args)) {
      a.replies.push_back(reply(c, false, "error:handler not found", req_id, op));
      return a;
    }
    const bool spot = c.path == kSpotPath;
    if (spot && args.size() > kSpotMaxArgs) {
      a.replies.push_back(reply(c, false, "args size >" + std::to_string(kSpotMaxArgs), req_id, op));
      return a;
    }
    std::vector<std::string> names;
    std::size_t chars = 0;
    for (const std::string& t : *c.topics) chars += t.size();
    for (simdjson::dom::element arg : args) {
      std::string_view name;
      const bool ok = !arg.get_string().get(name);
      const ParsedStream p = ok ? parse_topic(name) : ParsedStream{};
      const bool listed =
          !p.kline || std::find(invalid_.begin(), invalid_.end(), p.kline->symbol) == invalid_.end();
      if (!p.valid || !listed) {
        a.replies.push_back(reply(c, false, "Invalid symbol :[" + std::string(ok ? name : "") + "]",
                                  req_id, op));
        return a;
      }
      names.emplace_back(name);
      chars += name.size();
    }
    if (op == "subscribe" && chars > kMaxTopicChars) {
      a.replies.push_back(reply(c, false, "args length exceeds the limit", req_id, op));
      return a;
    }
    for (std::string& n : names) {
      const bool known = std::find(c.topics->begin(), c.topics->end(), n) != c.topics->end();
      if (op == "unsubscribe" && known) a.unsubscribe.push_back(n);
      if (op == "subscribe" && !known &&
          std::find(a.subscribe.begin(), a.subscribe.end(), n) == a.subscribe.end())
        a.subscribe.push_back(std::move(n));
    }
    a.replies.push_back(reply(c, true, spot ? std::string(op) : std::string(), req_id, op));
    a.log = std::string(op) + " id=" + std::to_string(c.id) +
            " streams=" + std::to_string(args.size());
    return a;
  }

  std::string kline_push(std::string_view topic, const StreamKey& key, std::int64_t event_ms,
                         const BarUnits& bar, bool closed, bool) const override {
    std::string s = R"({"topic":)";
    append_json_string(s, topic);
    s += R"(,"data":[{"start":)";
    append_int(s, bar.open_time_ms);
    s += R"(,"end":)";
    append_int(s, bar.close_time_ms);
    s += R"(,"interval":")";
    s += venue_interval(key.interval);
    const std::pair<const char*, std::int64_t> fields[] = {
        {"open", bar.open},     {"close", bar.close},   {"high", bar.high},
        {"low", bar.low},       {"volume", bar.volume}, {"turnover", bar.quote_volume}};
    s += '"';
    for (const auto& [k, v] : fields) {
      s += ",\"";
      s += k;
      s += "\":";
      append_quoted_units(s, v);
    }
    s += closed ? R"(,"confirm":true,"timestamp":)" : R"(,"confirm":false,"timestamp":)";
    append_int(s, event_ms);
    s += R"(}],"ts":)";
    append_int(s, event_ms);
    s += R"(,"type":"snapshot"})";
    return s;
  }

  std::optional<HttpResponse> rest(std::string_view path, const QueryArgs& args,
                                   RestEnv& env) override {
    if (path != "/v5/market/kline" && path != "/v5/market/time") return std::nullopt;
    std::int64_t retry_ms = 0;
    if (env.real_ms < banned_until_ms_) return ban_answer(false);
    if (!window_.allow(env.real_ms, retry_ms)) {  // [limits] over the limit: banned
      banned_until_ms_ = env.real_ms + ban_ms_;
      return ban_answer(true);
    }
    if (path == "/v5/market/time") {
      const std::int64_t now = env.market.sim_now_ms;
      return ok(R"({"timeSecond":")" + std::to_string(now / 1000) + R"(","timeNano":")" +
                    std::to_string(now) + "000000\"}",
                now);
    }
    switch (env.fault()) {
      case RestFault::kBan:  // rest-418 N S: an IP ban of S seconds
        banned_until_ms_ = env.real_ms + env.fault_retry_s * 1000;
        return ban_answer(false);
      case RestFault::kRateLimit: {  // rest-429 N S: [limits] retCode 10006 until the reset time
        HttpResponse r = envelope(10006, "Too many visits!", "{}", env.market.sim_now_ms);
        r.headers.emplace_back("X-Bapi-Limit-Reset-Timestamp:",
                               std::to_string(env.market.sim_now_ms + env.fault_retry_s * 1000));
        r.headers.emplace_back("X-Bapi-Limit-Status:", "0");
        return r;
      }
      case RestFault::kNone:
        break;
    }
    return kline(args, env.market);
  }

 private:
  std::string reply(const WsConnView& c, bool success, std::string_view ret_msg,
                    std::string_view req_id, std::string_view op) const {
    std::string s = success ? R"({"success":true,"ret_msg":)" : R"({"success":false,"ret_msg":)";
    append_json_string(s, ret_msg);
    s += R"(,"conn_id":")" + conn_id_string(c.id) + '"';
    if (!req_id.empty()) {
      s += R"(,"req_id":)";
      append_json_string(s, req_id);
    }
    s += R"(,"op":)";
    append_json_string(s, op);
    s += '}';
    return s;
  }

  static HttpResponse envelope(int code, std::string_view msg, const std::string& result,
                               std::int64_t now_ms) {
    HttpResponse r;
    r.body = R"({"retCode":)" + std::to_string(code) + R"(,"retMsg":)";
    append_json_string(r.body, msg);
    r.body += R"(,"result":)" + result + R"(,"retExtInfo":{},"time":)" + std::to_string(now_ms) + '}';
    return r;
  }
  static HttpResponse ok(const std::string& result, std::int64_t now_ms) {
    return envelope(0, "OK", result, now_ms);
  }

  HttpResponse ban_answer(bool limit) const {
    HttpResponse r;
    r.status = 403;
    r.body = "access too frequent";
    r.rate_limited = limit;
    return r;
  }

  HttpResponse kline(const QueryArgs& args, const MarketView& m) const {
    const auto error = [&](std::string_view msg) { return envelope(10001, msg, "{}", m.sim_now_ms); };
    const std::string* cat = find_arg(args, "category");
    const std::string category = cat ? *cat : "linear";
    if (category != "spot" && category != "linear") return error("Illegal category");
    const std::string* symbol = find_arg(args, "symbol");
    const std::string* interval_arg = find_arg(args, "interval");
    if (!symbol || symbol->empty()) return error("params error: symbol is empty");
    if (!interval_arg) return error("params error: interval is empty");
    const auto interval = bybit_interval(*interval_arg);
    if (!interval) return error("Invalid period!");
    std::optional<std::int64_t> start, end;
    for (auto [name, out] : {std::pair{"start", &start}, std::pair{"end", &end}}) {
      if (const std::string* v = find_arg(args, name)) {
        *out = parse_digits(*v);
        if (!*out) return error(std::string("params error: ") + name + " invalid");
      }
    }
    int limit = kDefaultLimit;
    if (const std::string* v = find_arg(args, "limit")) {
      const auto l = parse_digits(*v);
      if (!l || *l < 1 || *l > kMaxLimit) return error("params error: limit invalid");
      limit = static_cast<int>(*l);
    }
    if (!valid_symbol(*symbol) || !symbol_listed(m, *symbol)) return error("Not supported symbols");
    // The newest `limit` bars of [start, end] (end defaults to now), newest first. ("?": how
    // Bybit picks within a range longer than `limit` is not documented; newest is assumed.)
    const std::vector<std::int64_t> opens = open_times_desc(*interval, start, end, limit, true, m);
    std::string list = "[";
    for (std::size_t i = 0; i < opens.size(); ++i) {
      const BarUnits b = rest_bar(*symbol, *interval, opens[i], m);
      list += i ? ",[\"" : "[\"";
      append_int(list, b.open_time_ms);
      list += '"';
      for (std::int64_t v : {b.open, b.high, b.low, b.close, b.volume, b.quote_volume}) {
        list += ',';
        append_quoted_units(list, v);
      }
      list += ']';
    }
    list += ']';
    HttpResponse r = ok(R"({"category":")" + category + R"(","symbol":")" + *symbol +
                            R"(","list":)" + list + '}',
                        m.sim_now_ms);
    r.rows = opens.size();
    return r;
  }

  std::vector<std::string> invalid_;
  std::int64_t idle_ms_;
  std::int64_t ban_ms_;
  RequestWindow window_;
  std::int64_t banned_until_ms_ = 0;
};

}  // namespace

std::optional<std::string_view> bybit_interval(std::string_view interval) {
  return to_canonical(kIntervals, std::size(kIntervals), interval);
}

std::unique_ptr<Venue> make_bybit(const Options& o) { return std::make_unique<Bybit>(o); }

}  // namespace mdfeed::fake
