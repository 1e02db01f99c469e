// Bybit v5 public WebSocket protocol (spot and linear): topics, subscribe batching, the
// application ping, and the message parser (simdjson On-Demand).
//
// Messages (https://bybit-exchange.github.io/docs/v5/ws/connect and
// https://bybit-exchange.github.io/docs/v5/websocket/public/kline):
//  - pushes:  {"topic":"kline.5.BTCUSDT","data":[{start,end,interval,open,close,high,low,volume,
//              turnover,confirm,timestamp}],"ts":1672324988882,"type":"snapshot"}
//  - acks:    {"success":true,"ret_msg":"subscribe","conn_id":"..","req_id":"7","op":"subscribe"}
//  - pongs:   {"success":true,"ret_msg":"pong","conn_id":"..","op":"ping"} (public channels) or
//             {"req_id":"..","op":"pong","args":["1675418560633"],"conn_id":".."}
// The top-level object is walked once in whatever key order it comes; a kline's "data" that
// arrives before its "topic" is found again by rewinding the document (Bybit sends topic first).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>

#include "bybit/protocol.hpp"
#include "venue/error_text.hpp"
#include "venue/json_util.hpp"

namespace mdfeed::bybit {
namespace {

using namespace venue::json;  // od, error_code, get_decimal, PaddedParser, ...
using venue::Event;
using venue::EventKind;

constexpr std::size_t kMaxDepth = 16;             // {"data":[{..}]} is three deep
constexpr std::size_t kInitialCapacity = 16 * 1024;  // a kline push is ~350 bytes
constexpr std::size_t kTopicReserve = 128;        // topics are <= 41 bytes (kline.720.<31>)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What the top-level walk saw, besides the bar.
struct Seen {
  bool topic = false;
  bool kline = false;      // topic starts with "kline."
  bool bar = false;        // data parsed into the event's bar
  bool data_early = false;  // data came before the topic: parsed after a rewind
  bool ts = false;
  bool success_seen = false;
  bool success = false;
  std::string_view op, ret_msg, req_id;
};

std::int64_t parse_req_id(std::string_view s) noexcept {
  std::int64_t id = -1;
  const char* end = s.data() + s.size();
  if (s.empty() || std::from_chars(s.data(), end, id).ptr != end) return -1;
  return id;
}

class Ws final : public venue::WsProtocol {
 public:
  Ws(std::string_view path, std::size_t max_args, std::size_t max_bytes)
      : path_(path), max_args_(max_args), max_bytes_(max_bytes),
        parser_(max_bytes) {
    topic_.reserve(kTopicReserve);
    // Best effort: a failure here is retried, and reported, by the first parse that needs it.
    const error_code e = parser_.allocate(std::min(max_bytes_, kInitialCapacity), kMaxDepth);
    static_cast<void>(e);
  }

  std::string kline_topic(std::string_view symbol, std::string_view interval) const override {
    return bybit::kline_topic(symbol, interval);
  }

  // Bybit names the market in the path and takes every topic by subscribe message.
  std::string connect_path(const std::vector<std::string>&, std::size_t& in_url) const override {
    in_url = 0;
    return std::string(path_);
  }

  std::vector<std::string> control_frames(const std::vector<std::string>& topics, bool subscribe,
                                          std::int64_t& next_id) const override {
    return bybit::control_frames(topics, subscribe, max_args_, next_id);
  }

  // "We recommend that you send the ping heartbeat packet every 20 seconds" (v5 "Connect").
  // The first call starts the clock; pushes do not replace pings (only a pong proves the
  // connection to core).
  std::optional<std::string> heartbeat(std::int64_t now_ms, std::int64_t,
                                       std::int64_t heartbeat_ms) override {
    if (heartbeat_ms <= 0) return std::nullopt;
    if (!clock_started_) {
      clock_started_ = true;
      last_ping_ms_ = now_ms;
      return std::nullopt;
    }
    if (now_ms - last_ping_ms_ < heartbeat_ms) return std::nullopt;
    last_ping_ms_ = now_ms;
    return ping_frame(next_ping_id_++);
  }

  Event parse(const char* data, std::size_t len, std::size_t capacity) noexcept override;

  const char* last_error() const noexcept override { return error_.c_str(); }

 private:
  template <class... A>
  Event error(const char* fmt, A... args) noexcept {
    Event e;
    e.kind = EventKind::kError;
    return error_.fail(e, fmt, args...);
  }
  Event json_error(const char* where, error_code e) noexcept {
    return error("%s: %s", where, simdjson::error_message(e));
  }
  error_code reserve(std::size_t len) noexcept;
  bool top_field(od::field& f, Seen& seen, Event& e, const char*& why, error_code& err) noexcept;
  bool parse_data(od::value& v, Bar& out, const char*& why, error_code& err) noexcept;
  Event finish(od::document& doc, Seen& seen, Event& e) noexcept;

  std::string_view path_;
  std::size_t max_args_;
  std::size_t max_bytes_;
  od::parser parser_;
  std::string topic_;  // the last kline topic, copied out of the parser's string buffer
  bool clock_started_ = false;
  std::int64_t last_ping_ms_ = 0;
  std::int64_t next_ping_id_ = 1;
  venue::ErrorText error_;
};

// Geometric growth up to max_bytes, so a run of slightly larger messages does not reallocate
// each time.
error_code Ws::reserve(std::size_t len) noexcept {
  if (parser_.capacity() >= len) return simdjson::SUCCESS;
  return parser_.allocate(std::min(max_bytes_, std::max(len, 2 * parser_.capacity())), kMaxDepth);
}

Event Ws::parse(const char* data, std::size_t len, std::size_t capacity) noexcept {
  error_.clear();
  if (data == nullptr || len == 0) return error("empty message");
  if (len > max_bytes_) return error("message of %zu bytes exceeds the %zu byte limit", len, max_bytes_);
  if (capacity < len + simdjson::SIMDJSON_PADDING)
    return error("buffer of %zu bytes lacks %zu bytes of padding after %zu bytes", capacity,
                 simdjson::SIMDJSON_PADDING, len);
  if (error_code e = reserve(len)) return json_error("parser buffers", e);
  od::document doc;
  if (error_code e = parser_.iterate(data, len, capacity).get(doc)) return json_error("message", e);
  od::object top;
  if (error_code e = doc.get_object().get(top)) return json_error("message", e);
  Event ev;
  Seen seen;
  for (auto member : top) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return json_error("message", e);
    const char* why = "";
    error_code err{};
    if (!top_field(f, seen, ev, why, err)) return err ? json_error(why, err) : error("%s", why);
  }
  if (has_trailing_content(doc)) return error("trailing content after the JSON object");
  return finish(doc, seen, ev);
}

// One top-level member. False with why (and err, for a simdjson error) on failure.
bool Ws::top_field(od::field& f, Seen& seen, Event& e, const char*& why, error_code& err) noexcept {
  const od::raw_json_string key = f.key();
  od::value& v = f.value();
  if (key == "topic") {
    std::string_view t;
    if ((err = v.get_string().get(t))) return (why = "topic"), false;
    seen.topic = true;
    seen.kline = t.substr(0, 6) == "kline.";
    if (seen.kline) topic_.assign(t);  // within the reserve after the first long topic
  } else if (key == "data") {
    if (!seen.topic) {
      seen.data_early = true;  // parsed once the topic says what it is
    } else if (seen.kline) {
      if (!parse_data(v, e.bar, why, err)) return false;
      seen.bar = true;
    }
  } else if (key == "ts") {
    if ((err = v.get_int64().get(e.event_time_ms))) return (why = "ts"), false;
    seen.ts = true;
  } else if (key == "success") {
    if ((err = v.get_bool().get(seen.success))) return (why = "success"), false;
    seen.success_seen = true;
  } else if (key == "ret_msg") {
    if ((err = v.get_string().get(seen.ret_msg))) return (why = "ret_msg"), false;
  } else if (key == "op") {
    if ((err = v.get_string().get(seen.op))) return (why = "op"), false;
  } else if (key == "req_id") {
    od::json_type t{};
    if ((err = v.type().get(t))) return (why = "req_id"), false;
    // We send string ids; any other type is not ours and leaves the id unknown.
    if (t == od::json_type::string && (err = v.get_string().get(seen.req_id)))
      return (why = "req_id"), false;
  }
  return true;
}

// "data":[{start,end,interval,open,close,high,low,volume,turnover,confirm,timestamp},..]. Bybit
// sends one entry; should there be several, the newest bar (largest start, the later on a tie)
// is the one reported.
bool Ws::parse_data(od::value& v, Bar& out, const char*& why, error_code& err) noexcept {
  od::array arr;
  if ((err = v.get_array().get(arr))) return (why = "data"), false;
  bool any = false;
  for (auto item : arr) {
    od::object o;
    if ((err = std::move(item).get_object().get(o))) return (why = "data[]"), false;
    Bar b{};
    bool confirm = false;
    od::value d;
    // Bybit's key order; find_field_unordered still finds reordered keys.
    const auto decimal = [&](const char* label, double& dst) noexcept {
      why = label;  // "data[].open": the key is what follows the prefix
      err = o.find_field_unordered(label + sizeof("data[].") - 1).get(d);
      if (!err) err = get_decimal(d, dst);
      return !err;
    };
    const bool ok = ((why = "data[].start"), !(err = o.find_field_unordered("start").get_int64().get(b.open_time_ms))) &&
                    ((why = "data[].end"), !(err = o.find_field_unordered("end").get_int64().get(b.close_time_ms))) &&
                    decimal("data[].open", b.open) && decimal("data[].close", b.close) &&
                    decimal("data[].high", b.high) && decimal("data[].low", b.low) &&
                    decimal("data[].volume", b.volume) && decimal("data[].turnover", b.quote_volume) &&
                    ((why = "data[].confirm"), !(err = o.find_field_unordered("confirm").get_bool().get(confirm)));
    if (!ok) return false;
    if (b.close_time_ms < b.open_time_ms) return (why = "data[]: end before start"), false;
    b.taker_buy_volume = b.taker_buy_quote_volume = kNaN;  // Bybit does not send them
    b.trades = 0;
    b.flags = kBarNoTrades | (confirm ? kBarClosed : 0u);
    if (!any || b.open_time_ms >= out.open_time_ms) out = b;
    any = true;
  }
  if (!any) return (why = "data: empty array"), false;
  return true;
}

Event Ws::finish(od::document& doc, Seen& seen, Event& e) noexcept {
  if (seen.topic) {
    if (!seen.kline) {  // publicTrade, orderbook, tickers, ...: valid, unused
      Event ignored;
      ignored.kind = EventKind::kIgnored;
      return ignored;
    }
    if (!seen.bar) {
      if (!seen.data_early) return error("kline push without data");
      od::object top;
      od::value data;
      const char* why = "";
      doc.rewind();
      error_code err = doc.get_object().get(top);
      if (!err) err = top.find_field_unordered("data").get(data);
      if (err) return json_error("data", err);
      if (!parse_data(data, e.bar, why, err)) return err ? json_error(why, err) : error("%s", why);
    }
    if (!seen.ts) return error("kline push without ts");
    e.kind = EventKind::kKline;
    e.topic = topic_;
    return e;
  }
  e.event_time_ms = venue::kNoTime;
  if (seen.op == "pong" || (seen.op == "ping" && (!seen.success_seen || seen.success))) {
    e.kind = EventKind::kPong;
    return e;
  }
  if (seen.op == "ping")
    return error("ping refused: %.*s", static_cast<int>(seen.ret_msg.size()), seen.ret_msg.data());
  if (seen.op == "subscribe" || seen.op == "unsubscribe" || (seen.success_seen && !seen.success)) {
    if (!seen.success_seen) return error("%.*s reply without success", static_cast<int>(seen.op.size()), seen.op.data());
    e.kind = EventKind::kControlReply;
    e.control.id = parse_req_id(seen.req_id);
    e.control.ok = seen.success;
    if (!seen.success) e.control.error_msg = seen.ret_msg;
    return e;
  }
  e.kind = EventKind::kIgnored;  // auth replies and anything else without a topic
  return e;
}

void append_quoted_list(std::string& out, const std::vector<std::string>& topics, std::size_t first,
                        std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += ',';
    out += '"';
    out += topics[i];
    out += '"';
  }
}

}  // namespace

const venue::IntervalName kIntervals[13] = {
    {"1m", "1"},    {"3m", "3"},    {"5m", "5"},    {"15m", "15"},   {"30m", "30"},
    {"1h", "60"},   {"2h", "120"},  {"4h", "240"},  {"6h", "360"},   {"12h", "720"},
    {"1d", "D"},    {"1w", "W"},    {"1M", "M"},
};

std::optional<std::string_view> venue_interval(std::string_view canonical) noexcept {
  for (const auto& i : kIntervals)
    if (i.canonical == canonical) return i.venue;
  return std::nullopt;
}

std::optional<std::string_view> canonical_interval(std::string_view bybit) noexcept {
  for (const auto& i : kIntervals)
    if (i.venue == bybit) return i.canonical;
  return std::nullopt;
}

std::string kline_topic(std::string_view symbol, std::string_view interval) {
  std::string t = "kline.";
  t += venue_interval(interval).value_or(interval);
  t += '.';
  t += symbol;
  return t;
}

std::vector<std::string> control_frames(const std::vector<std::string>& topics, bool subscribe,
                                        std::size_t max_args, std::int64_t& next_id) {
  std::vector<std::string> out;
  const std::size_t step = std::max<std::size_t>(1, max_args);
  for (std::size_t i = 0; i < topics.size(); i += step) {
    std::string f = R"({"req_id":")";
    f += std::to_string(next_id++);
    f += subscribe ? R"(","op":"subscribe","args":[)" : R"(","op":"unsubscribe","args":[)";
    append_quoted_list(f, topics, i, std::min(topics.size(), i + step));
    f += "]}";
    out.push_back(std::move(f));
  }
  return out;
}

std::string ping_frame(std::int64_t req_id) {
  return R"({"req_id":")" + std::to_string(req_id) + R"(","op":"ping"})";
}

std::unique_ptr<venue::WsProtocol> make_ws(std::string_view path, std::size_t max_args,
                                           std::size_t max_message_bytes) {
  return std::make_unique<Ws>(path, max_args, max_message_bytes);
}

}  // namespace mdfeed::bybit
